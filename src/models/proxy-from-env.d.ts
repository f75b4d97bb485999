/** Types for proxy-from-env (the package ships none): the proxy URL for a URL from HTTP(S)_PROXY / ALL_PROXY / NO_PROXY, or ''. */
declare module 'proxy-from-env' {
  export function getProxyForUrl(url: string | URL): string;
}
