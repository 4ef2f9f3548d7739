import GRDB
import Tenancy

/// A tenant binds and reads as its text. Read back, it is trusted: it was an `OrgID` when written.
extension OrgID: DatabaseValueConvertible {
    package var databaseValue: DatabaseValue { rawValue.databaseValue }

    package static func fromDatabaseValue(_ dbValue: DatabaseValue) -> OrgID? {
        String.fromDatabaseValue(dbValue).map { OrgID(stored: $0) }
    }
}
