/** Value sets of the audience endpoints (audience-api.md). Case-sensitive, like region and isp. */
export const AUDIENCE_PROTOCOLS = ['flv', 'hls', 'rtmp'] as const;
export type AudienceProtocol = (typeof AUDIENCE_PROTOCOLS)[number];

/** ListUsersOfStream's slot lengths, seconds: 60 (the default) or 300 (the 5-minute peak). */
export const USER_INTERVALS_S = [60, 300] as const;
export type UserIntervalSeconds = (typeof USER_INTERVALS_S)[number];

const protocolSet: ReadonlySet<string> = new Set(AUDIENCE_PROTOCOLS);
export const isAudienceProtocol = (v: string): v is AudienceProtocol => protocolSet.has(v);

/** `interval` exactly as one of the allowed decimal numbers ('60', not '060', '+60' or '60.0'). */
export function parseUserInterval(text: string): UserIntervalSeconds | undefined {
  for (const s of USER_INTERVALS_S) if (text === String(s)) return s;
  return undefined;
}
