/// The bundle's version, reported by `/healthz` (overridden by `APP_VERSION` at deploy time).
public enum ServiceInfo {
    public static let version = "0.1.0"
}
