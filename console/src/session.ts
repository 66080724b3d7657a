// Who is using the console: the token's role when the admin service tells it.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface SessionInfo {
  /** null: the service did not say; write actions stay visible and a refusal shows its 403. */
  role: 'read' | 'write' | null;
  name: string | null;
}

export const Session = createContext<SessionInfo>({ role: null, name: null });

/** Whether write actions are offered: not for a token known to be read-only. */
export function useCanWrite(): boolean {
  return useContext(Session).role !== 'read';
}
