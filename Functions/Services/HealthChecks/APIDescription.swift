import Foundation
import Yams

/// The API's OpenAPI description (`openapi.yaml` at the repository root, copied into the health
/// package), served by `GET /openapi.yaml` as written and by `GET /openapi.json` converted once
/// at start, so a deployed stack describes itself.
package struct APIDescription: Sendable {
    package let yaml: String
    package let json: Data

    package struct LoadError: Error, CustomStringConvertible {
        package let description: String
    }

    /// - Parameter path: `OPENAPI_SPEC`, else `openapi.yaml` in the working directory (the
    ///   repository root under the emulator, the package root on Lambda).
    package static func load(path: String?) throws(LoadError) -> APIDescription {
        let path = path.flatMap { $0.isEmpty ? nil : $0 } ?? "openapi.yaml"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "no API description at \(path) (OPENAPI_SPEC)")
        }
        let yaml = String(decoding: data, as: UTF8.self)
        do {
            guard let object = try Yams.load(yaml: yaml), JSONSerialization.isValidJSONObject(object) else {
                throw LoadError(description: "\(path) is not a YAML mapping that JSON can hold")
            }
            return APIDescription(yaml: yaml, json: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch let e as LoadError {
            throw e
        } catch {
            throw LoadError(description: "\(path): \(error)")
        }
    }
}
