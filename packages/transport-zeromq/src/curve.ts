import { curveKeyPair } from 'zeromq';

/** A CurveZMQ key pair, both keys Z85-encoded (40 characters). */
export interface CurveKeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** Generates a new CurveZMQ key pair (zeromq's `curveKeyPair`). */
export function generateCurveKeyPair(): CurveKeyPair {
  const { publicKey, secretKey } = curveKeyPair();
  return { publicKey, secretKey };
}
