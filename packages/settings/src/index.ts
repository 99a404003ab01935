export type { SettingSpec, SettingsList, SettingsOf, ValueType } from './spec.js';
export { defineSettings, describeSetting, type SchemaOptions, type SettingsSchema, type SettingsProblem } from './schema.js';
export {
  aliasedChoiceType,
  atLeast,
  booleanType,
  choiceType,
  intType,
  listType,
  optionalStringType,
  positive,
  range,
  recordType,
  secondsType,
  sizeType,
  stringType,
  umaskType,
  valueType,
} from './value-types.js';
export { parseArgs, type ParsedArgs } from './parse-args.js';
export { nearest } from './nearest.js';
export { readConfigObject, type ConfigObject } from './config-object.js';
export { readConfigFile, CONFIG_FILE_EXTENSIONS } from './config-file.js';
export { defaultSettings, layerSettings, validateSettings } from './resolve.js';
export { settingsHelp, helpLine, describeDefault, markdownTable, flagsCell, code } from './help.js';
export { muteBrokenStdio, stdioWritable } from './process/stdio.js';
