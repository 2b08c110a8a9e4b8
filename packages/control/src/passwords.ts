import { BerthError } from "@berth/protocol";
import { hash, verify } from "@node-rs/argon2";

// argon2id (the library's default algorithm) with OWASP's second recommended profile.
const PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 10;

export function checkPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new BerthError("InvalidArgument", `a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > 1024)
    throw new BerthError("InvalidArgument", "a password has at most 1024 characters");
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
