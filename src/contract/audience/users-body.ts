import { renderValueTimes } from '../value-time-body.js';
import type { UsersQuery } from './users.js';

/**
 * The ListUsersOfStream answer rendered straight to bytes: the same bytes as `usersJson(q, perMinute)`
 * (tested), without a string per entry (7 days at 60 s is 10,080 entries). `values[i]`: slot i.
 */
export function renderUsers(q: Pick<UsersQuery, 'slots'>, values: ArrayLike<number>): Uint8Array {
  return renderValueTimes(q.slots, values);
}
