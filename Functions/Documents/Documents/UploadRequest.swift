import DocumentStore
import Foundation
import Ingestion
import JSON
import LambdaEvents

/// What `POST /v1/documents` carries, however it was sent:
///
/// - `multipart/form-data` with a `file` part (its `filename` and `Content-Type` are hints),
///   an optional `title` part and an optional `metadata` part (a JSON object);
/// - or the document as the raw body, its type in `Content-Type`, its name in `?filename=`
///   (or a `Content-Disposition: attachment; filename=...` header), with `?title=` and
///   `?metadata=` (URL-encoded JSON) as the optional fields.
///
/// Nothing here is trusted yet: the bytes are sniffed and the name sanitised by `UploadService`.
package struct UploadInput: Sendable {
    package var bytes: [UInt8]
    package var declaredContentType: String?
    package var filename: String?
    package var title: String?
    package var metadata: JSONObject

    package init(bytes: [UInt8], declaredContentType: String? = nil, filename: String? = nil, title: String? = nil,
                metadata: JSONObject = [:]) {
        self.bytes = bytes
        self.declaredContentType = declaredContentType
        self.filename = filename
        self.title = title
        self.metadata = metadata
    }

    /// Form fields a multipart upload may carry.
    package static let formFields = ["file", "title", "metadata"]
    /// Room for the multipart framing, the title and the metadata on top of the file itself.
    package static let formOverheadBytes = 64 * 1024
    package static let maxTitleCharacters = 500

    /// Reads the request. Sizes are checked before anything is parsed (the whole body has
    /// arrived anyway: Lambda gets it in one piece): over `maxBytes` is a 413.
    package static func from(_ request: APIGatewayV2Request, maxBytes: Int) throws(APIError) -> UploadInput {
        // A base64 body decodes to about 3/4 of its length: refuse before decoding a huge one.
        if let body = request.body {
            let estimate = request.isBase64Encoded ? body.utf8.count / 4 * 3 : body.utf8.count
            if estimate > maxBytes + formOverheadBytes { throw tooLarge(estimate, maxBytes) }
        }
        let data = try request.bodyData()
        let contentType = request.header("content-type")
        let media = HeaderParameters.parse(contentType ?? "").value.lowercased()

        if media.hasPrefix("multipart/") {
            guard media == "multipart/form-data" else {
                throw APIError.unsupportedMediaType("Send the document as multipart/form-data or as the raw body, not \(media).")
            }
            if data.count > maxBytes + formOverheadBytes { throw tooLarge(data.count, maxBytes) }
            return try fromMultipart(Array(data), contentType: contentType ?? "", maxBytes: maxBytes)
        }

        if data.count > maxBytes { throw tooLarge(data.count, maxBytes) }
        guard !data.isEmpty else {
            throw APIError.badRequest(
                "No document in the request: send it as multipart/form-data (field `file`) or as the raw body with its Content-Type and ?filename=.",
                code: "missing_file")
        }
        var filename = request.query("filename")
        if filename == nil, let disposition = request.header("content-disposition") {
            let p = HeaderParameters.parse(disposition).parameters
            filename = p["filename*"].flatMap(HeaderParameters.decodeExtendedValue) ?? p["filename"]
        }
        var metadata: JSONObject = [:]
        if let text = request.query("metadata") { metadata = try parseMetadata(Array(text.utf8)) }
        return try UploadInput(bytes: Array(data), declaredContentType: contentType, filename: filename,
                               title: request.query("title"), metadata: metadata).refusingNUL()
    }

    /// A NUL in the file name, the title or the metadata is refused (422 naming the field), not
    /// cleaned: each reaches the store, and the file name reaches a path. (A NUL byte in the
    /// document itself makes it binary: `ContentSniffer` answers 415.)
    func refusingNUL() throws(APIError) -> UploadInput {
        for (field, value) in [("filename", filename), ("title", title)] where value?.utf8.contains(0) == true {
            throw APIError.invalidField(field, "`\(field)` contains a NUL character (U+0000).")
        }
        if let field = APIGatewayV2Request.fieldHoldingNUL(.object(metadata), path: "metadata") {
            throw APIError.invalidField(field, "`\(field)` contains a NUL character (U+0000).")
        }
        return self
    }

    static func fromMultipart(_ body: [UInt8], contentType: String, maxBytes: Int) throws(APIError) -> UploadInput {
        let form: MultipartForm
        do {
            form = try MultipartForm.parse(body, boundary: try MultipartForm.boundary(contentType: contentType))
        } catch {
            throw APIError.badRequest("Malformed multipart/form-data: \(error.description).", code: "invalid_multipart")
        }
        var file: MultipartForm.Part?
        var title: String?
        var metadata: JSONObject = [:]
        var seen = Set<String>()
        for part in form.parts {
            guard let name = part.name else {
                throw APIError.badRequest("A form part has no name (Content-Disposition: form-data; name=\"...\").", code: "invalid_multipart")
            }
            guard formFields.contains(name) else {
                throw APIError.badRequest("Unknown form field `\(name)`; the fields are file, title and metadata.",
                                          code: "unknown_field", details: ["field": .string(name)])
            }
            guard seen.insert(name).inserted else {
                throw APIError.badRequest("The form field `\(name)` is given more than once; send one document per request.",
                                          code: "duplicate_field", details: ["field": .string(name)])
            }
            switch name {
            case "file":
                if part.body.count > maxBytes { throw tooLarge(part.body.count, maxBytes) }
                file = part
            case "title":
                guard let text = String(validating: part.body, as: UTF8.self) else {
                    throw APIError.unprocessable("The title is not valid UTF-8.", details: ["field": "title"])
                }
                title = text
            default:
                metadata = try parseMetadata(Array(part.body))
            }
        }
        guard let file else {
            throw APIError.badRequest("The form has no `file` field: send the document as the part named file.", code: "missing_file")
        }
        return try UploadInput(bytes: Array(file.body), declaredContentType: file.contentType, filename: file.filename,
                               title: title, metadata: metadata).refusingNUL()
    }

    /// A JSON object of at most `StoreValidation.maxMetadataBytes` (as stored); 422 otherwise.
    package static func parseMetadata(_ bytes: [UInt8]) throws(APIError) -> JSONObject {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        if bytes.count > StoreValidation.maxMetadataBytes * 4 {
            throw metadataError("metadata is \(bytes.count) bytes; at most \(StoreValidation.maxMetadataBytes) bytes of JSON")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw metadataError("metadata is not valid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw metadataError("metadata must be a JSON object") }
        if let problem = StoreValidation.metadataProblem(object) { throw metadataError("metadata \(problem)") }
        let size = StoreValidation.encode(object).utf8.count
        guard size <= StoreValidation.maxMetadataBytes else {
            throw metadataError("metadata is \(size) bytes of JSON; at most \(StoreValidation.maxMetadataBytes)")
        }
        return object
    }

    static func metadataError(_ message: String) -> APIError {
        APIError.unprocessable(message.prefix(1).uppercased() + message.dropFirst() + ".", details: ["field": "metadata"])
    }

    static func tooLarge(_ bytes: Int, _ max: Int) -> APIError {
        APIError(status: 413, code: "payload_too_large",
                 message: "The document is \(bytes) bytes; the limit is \(max) bytes (MAX_UPLOAD_BYTES).",
                 details: ["bytes": .number(Double(bytes)), "max_bytes": .number(Double(max))])
    }
}
