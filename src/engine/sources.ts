/**
 * Calibration sources for front ends: reading, checking and parsing user files, and identifying
 * their language (src/calib), re-exported here because the UI imports only the engine layer.
 */
export { DEFAULT_MAX_SOURCE_BYTES, previewOf, readSource, SOURCE_EXTENSIONS, sourceFormat, type ParsedSource, type SourceFormat } from '../calib/sources';
export { identifyLanguage, type LanguageGuess } from '../calib/langid';
