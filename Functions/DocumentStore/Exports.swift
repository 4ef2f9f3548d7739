// Keyword search folds text the same way everywhere; the stores get it through this module.
@_exported import TextFolding
