/** Whether a URL's host names this machine: localhost, a 127.x address or [::1] (as URL.hostname spells it). */
export const isLoopbackHost = (hostname: string): boolean => LOOPBACK.test(hostname)
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i
