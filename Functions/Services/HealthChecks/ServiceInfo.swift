/// The bundle's version, reported by `/healthz` (overridden by `APP_VERSION` at deploy time).
package enum ServiceInfo {
    package static let version = "0.1.0"
}
