/// The seed vector file as a `RouterHost` holds it: the decoded rows if they fit the provider,
/// the file's fingerprint (so a reload reads it again only when it changed), and what became of
/// it in words for the load report. Never an error: a missing, stale, corrupt or foreign file
/// only means the seeds it lacks are embedded.
struct LoadedSeedVectors: Sendable {
    let path: String?
    let fingerprint: FileFingerprint?
    /// Nil when missing or unusable.
    let file: SeedVectorFile?
    let status: String?

    static let none = LoadedSeedVectors(path: nil, fingerprint: nil, file: nil, status: nil)

    static func load(path: String?, modelId: String, dimension: Int) -> LoadedSeedVectors {
        guard let path else { return .none }
        let fingerprint = FileFingerprint.of(path)
        do {
            guard let file = try SeedVectorFile.read(path: path) else {
                return LoadedSeedVectors(path: path, fingerprint: fingerprint, file: nil, status: "\(path) not found, seeds embedded")
            }
            guard file.matches(modelId: modelId, dimension: dimension) else {
                return LoadedSeedVectors(path: path, fingerprint: fingerprint, file: nil,
                                         status: "\(path) ignored: vectors of \(file.modelId) (\(file.dimension) dimensions), "
                                             + "the provider is \(modelId) (\(dimension))")
            }
            return LoadedSeedVectors(path: path, fingerprint: fingerprint, file: file, status: "\(path), \(file.rowCount) vectors")
        } catch {
            return LoadedSeedVectors(path: path, fingerprint: fingerprint, file: nil, status: "\(path) ignored, \(error)")
        }
    }

    /// This, or the file read again if it changed on disk since.
    func refreshed(path: String?, modelId: String, dimension: Int) -> LoadedSeedVectors {
        guard path == self.path, let path, FileFingerprint.of(path) == fingerprint else {
            return Self.load(path: path, modelId: modelId, dimension: dimension)
        }
        return self
    }
}
