import type { SettingSpec as KernelSettingSpec } from '@nodicorn/settings';

/** The --help headings, in Gunicorn's order. */
export type SettingSection = 'Server socket' | 'Worker processes' | 'Server mechanics' | 'Logging' | 'Process naming' | 'Security' | 'Config';

/** A server setting: the kernel's spec, always with Gunicorn's snake_case name and a section. */
export type SettingSpec<T> = KernelSettingSpec<T, SettingSection> & {
  /** Gunicorn's snake_case name, used in messages, docs and config files. */
  readonly name: string;
  readonly section: SettingSection;
};
