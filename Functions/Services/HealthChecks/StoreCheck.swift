import DocumentStore
import Stores
import Synchronization

extension ReadinessCheck {
    /// The store answers and its schema is current. Opened on first use (applying pending
    /// migrations, as every function does at start) and kept, so a database that was down at
    /// cold start is picked up once it is back.
    package static func store(url: String?, timeout: Duration = .seconds(3)) -> ReadinessCheck {
        let opened = Mutex<(any Store)?>(nil)
        return ReadinessCheck("store", timeout: timeout) {
            guard let url, !url.isEmpty else { throw CheckFailure("DATABASE_URL is not set") }
            let store: any Store
            if let s = opened.withLock({ $0 }) {
                store = s
            } else {
                do {
                    store = try Stores.open(url: url, migrate: true)
                } catch {
                    throw CheckFailure("cannot open \(Stores.redacted(url)): \(error)")
                }
                opened.withLock { $0 = store }
            }
            do {
                try store.ping()
                let status = try store.migrationStatus()
                guard status.isCurrent else {
                    throw CheckFailure("migrations pending: \(status.pending.joined(separator: ", ")) (they run at a function's start, or `emulator migrate`)")
                }
            } catch let failure as CheckFailure {
                throw failure
            } catch {
                throw CheckFailure("\(error)")
            }
        }
    }
}
