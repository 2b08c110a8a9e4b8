import type { ReactNode } from "react";

/** A page's heading; a string title also becomes the document title. */
export function PageHeader(props: {
  title: ReactNode;
  documentTitle?: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
}) {
  const docTitle = props.documentTitle ?? (typeof props.title === "string" ? props.title : null);
  return (
    <div className="page-header">
      {docTitle && <title>{`${docTitle} · Berth`}</title>}
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p className="subtitle">{props.subtitle}</p>}
      </div>
      {props.actions && <div className="page-actions">{props.actions}</div>}
    </div>
  );
}
