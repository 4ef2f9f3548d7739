import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 client that hands over a response body as it arrives, for tests of streamed
/// answers (URLSession on Linux gives no access to a body before it ends). One request per
/// connection, over a plain socket; chunked bodies are decoded. `close()` drops the connection
/// mid-body, as a client that goes away would.
package final class StreamingHTTPResponse: @unchecked Sendable {
    package let status: Int
    /// Lower-cased names.
    package let headers: [String: String]
    /// The decoded body, a piece per read as it arrives. Ends with the body; throws
    /// `StreamingHTTP.Truncated` when the connection ends first (a stream cut short).
    package let body: AsyncThrowingStream<[UInt8], any Error>
    private let fd: Int32
    private let closed = NSLock()
    private var isClosed = false

    init(status: Int, headers: [String: String], body: AsyncThrowingStream<[UInt8], any Error>, fd: Int32) {
        self.status = status
        self.headers = headers
        self.body = body
        self.fd = fd
    }

    /// Drops the connection (the reader sees its end).
    package func close() {
        closed.lock()
        defer { closed.unlock() }
        guard !isClosed else { return }
        isClosed = true
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// The whole body as text (or what arrived before a truncation, with the error).
    package func text() async -> (String, (any Error)?) {
        var bytes: [UInt8] = []
        do {
            for try await piece in body { bytes += piece }
            return (String(decoding: bytes, as: UTF8.self), nil)
        } catch {
            return (String(decoding: bytes, as: UTF8.self), error)
        }
    }
}

package enum StreamingHTTP {
    package struct Truncated: Error, CustomStringConvertible {
        package var description: String { "the connection ended before the body did" }
    }

    package struct Failed: Error, CustomStringConvertible {
        package let description: String
    }

    package static func request(port: Int, method: String = "GET", path: String, headers: [String: String] = [:],
                                body: [UInt8] = []) async throws -> StreamingHTTPResponse {
        try await withCheckedThrowingContinuation { cont in
            Thread {
                do { cont.resume(returning: try start(port: port, method: method, path: path, headers: headers, body: body)) }
                catch { cont.resume(throwing: error) }
            }.start()
        }
    }

    private static func start(port: Int, method: String, path: String, headers: [String: String], body: [UInt8]) throws -> StreamingHTTPResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failed(description: "socket: \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            Glibc.close(fd)
            throw Failed(description: "connect to port \(port): \(errno)")
        }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { request += "\(k): \(v)\r\n" }
        request += "\r\n"
        let out = Array(request.utf8) + body
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else {
                Glibc.close(fd)
                throw Failed(description: "send: \(errno)")
            }
            sent += n
        }

        let reader = SocketReader(fd: fd)
        guard let headText = reader.readUntil(Array("\r\n\r\n".utf8)) else {
            Glibc.close(fd)
            throw Failed(description: "no response head")
        }
        let lines = String(decoding: headText, as: UTF8.self).components(separatedBy: "\r\n")
        let status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        var responseHeaders: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            responseHeaders[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let chunked = responseHeaders["transfer-encoding"]?.lowercased().contains("chunked") ?? false
        let length = responseHeaders["content-length"].flatMap { Int($0) }
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        Thread {
            defer { Glibc.close(fd) }
            if chunked {
                while true {
                    guard let sizeLine = reader.readUntil(Array("\r\n".utf8)),
                          let size = Int(String(decoding: sizeLine, as: UTF8.self).split(separator: ";").first ?? "", radix: 16) else {
                        return continuation.finish(throwing: Truncated())
                    }
                    if size == 0 { return continuation.finish() }
                    guard let data = reader.read(exactly: size), reader.read(exactly: 2) != nil else {
                        return continuation.finish(throwing: Truncated())
                    }
                    continuation.yield(data)
                }
            } else if let length {
                var left = length
                while left > 0 {
                    guard let piece = reader.readSome(max: left) else { return continuation.finish(throwing: Truncated()) }
                    left -= piece.count
                    continuation.yield(piece)
                }
                continuation.finish()
            } else {
                while let piece = reader.readSome(max: 65536) { continuation.yield(piece) }
                continuation.finish()
            }
        }.start()
        return StreamingHTTPResponse(status: status, headers: responseHeaders, body: stream, fd: fd)
    }
}

/// Blocking reads with a buffer, on one thread at a time.
private final class SocketReader: @unchecked Sendable {
    let fd: Int32
    var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[..<n]
        return true
    }

    func readUntil(_ delimiter: [UInt8]) -> [UInt8]? {
        var searched = 0
        while true {
            if buffer.count >= delimiter.count {
                for i in max(0, searched - delimiter.count)...(buffer.count - delimiter.count)
                where buffer[i..<(i + delimiter.count)].elementsEqual(delimiter) {
                    let out = Array(buffer[..<i])
                    buffer.removeFirst(i + delimiter.count)
                    return out
                }
                searched = buffer.count
            }
            guard fill() else { return nil }
        }
    }

    func read(exactly n: Int) -> [UInt8]? {
        while buffer.count < n { guard fill() else { return nil } }
        let out = Array(buffer[..<n])
        buffer.removeFirst(n)
        return out
    }

    func readSome(max: Int) -> [UInt8]? {
        if buffer.isEmpty { guard fill() else { return nil } }
        let n = min(max, buffer.count)
        let out = Array(buffer[..<n])
        buffer.removeFirst(n)
        return out
    }
}
