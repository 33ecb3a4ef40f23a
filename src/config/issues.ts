import { AtcaError, type ErrorCode } from '../errors.js';

/** One problem with a configuration: where (a dotted path), why, and (for host checks) its code. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  /** Set by the checks of the files a configuration names (secrets, ipmitool); unset means invalid. */
  readonly code?: ErrorCode;
}

/** One issue as a line: `path: message`, with its code when it differs from the error's. */
export function formatIssue(i: ConfigIssue, errorCode?: ErrorCode): string {
  const code = i.code !== undefined && i.code !== errorCode ? ` [${i.code}]` : '';
  return `${i.path || '(top)'}: ${i.message}${code}`;
}

/** The code that describes every issue: theirs if they share one, else ATCA_ERR_CONFIG_INVALID. */
export function codeOf(issues: readonly ConfigIssue[]): ErrorCode {
  const codes = new Set(issues.map((i) => i.code ?? 'ATCA_ERR_CONFIG_INVALID'));
  return codes.size === 1 ? [...codes][0]! : 'ATCA_ERR_CONFIG_INVALID';
}

/** Every issue found in one configuration file, at once. */
export class ConfigError extends AtcaError {
  readonly issues: readonly ConfigIssue[];
  constructor(file: string, issues: readonly ConfigIssue[], code: ErrorCode = 'ATCA_ERR_CONFIG_INVALID') {
    super(code, `${file}:\n${issues.map((i) => `  ${formatIssue(i, code)}`).join('\n')}`);
    this.issues = issues;
  }
}
