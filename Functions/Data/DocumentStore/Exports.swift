// Keyword search folds text the same way everywhere; the stores get it through this module.
@_exported import TextFolding
// Every store method takes the tenant as an `OrgID`.
@_exported import Tenancy
