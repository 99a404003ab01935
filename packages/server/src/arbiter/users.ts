import { readFileSync } from 'node:fs';
import { NodicornError } from '../errors.js';

/** Finds a name's numeric id in a passwd(5) or group(5) file's text; numbers pass through. */
export function lookupId(text: string, nameOrId: string): number | undefined {
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === nameOrId && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return undefined;
}

/** The primary group of a user, from passwd(5). */
export function primaryGroup(passwd: string, uid: number): number | undefined {
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields[2] === String(uid) && fields[3] !== undefined && /^\d+$/.test(fields[3])) return Number(fields[3]);
  }
  return undefined;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Resolves --user/--group to the uid/gid workers are spawned with (Gunicorn: group defaults to the user's). */
export function resolveIdentity(user: string | null, group: string | null): { uid?: number; gid?: number } {
  const out: { uid?: number; gid?: number } = {};
  const passwd = read('/etc/passwd');
  if (user !== null) {
    const uid = lookupId(passwd, user);
    if (uid === undefined) throw new NodicornError('ERR_USER', `No such user "${user}" for --user; give an existing user name or a uid.`);
    out.uid = uid;
    const gid = primaryGroup(passwd, uid);
    if (gid !== undefined) out.gid = gid;
  }
  if (group !== null) {
    const gid = lookupId(read('/etc/group'), group);
    if (gid === undefined) throw new NodicornError('ERR_USER', `No such group "${group}" for --group; give an existing group name or a gid.`);
    out.gid = gid;
  }
  return out;
}
