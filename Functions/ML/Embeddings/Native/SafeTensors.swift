import JSON

/// Why a safetensors file could not be read.
package enum SafeTensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    case fileMissing(String)
    case unreadable(String)
    /// Shorter than the 8-byte header length, or than the header it announces.
    case truncated(String)
    /// The header is not a JSON object of tensor entries.
    case badHeader(String)
    case tensorMissing(String)
    case unsupportedDType(tensor: String, dtype: String)
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])

    package var description: String {
        switch self {
        case .fileMissing(let p): "no such file \(p)"
        case .unreadable(let m): "cannot read the weights: \(m)"
        case .truncated(let m): "truncated safetensors file: \(m)"
        case .badHeader(let m): "corrupt safetensors header: \(m)"
        case .tensorMissing(let n): "tensor \(n) is not in the file"
        case .unsupportedDType(let n, let d): "tensor \(n) is \(d), expected F32"
        case .shapeMismatch(let n, let e, let f): "tensor \(n) has shape \(f), config.json implies \(e)"
        }
    }
}

/// A safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header mapping tensor names to dtype, shape and byte range, then the
/// raw little-endian data. Mapped, never read whole; every entry's range is checked against the
/// file size up front, so a truncated download fails here with a message and not later with a
/// SIGBUS or garbage vectors.
package final class SafeTensorsFile: @unchecked Sendable {
    // @unchecked: immutable after init; the mapping is read-only.
    package struct TensorInfo: Sendable, Equatable {
        package let dtype: String
        package let shape: [Int]
        /// Byte range within the data section (after the header).
        package let range: Range<Int>
    }

    package let path: String
    package let tensors: [String: TensorInfo]
    private let file: MappedFile
    /// The data section: in the mapping, or, when the header length leaves it misaligned for
    /// floats (the safetensors library pads headers to 8 bytes; hand-made files may not), an
    /// aligned copy.
    private let data: UnsafeRawPointer
    private let dataCopy: UnsafeMutableRawPointer?

    /// Headers are a few kilobytes; the cap stops a corrupt length from asking for gigabytes.
    static let maxHeaderBytes = 100 << 20

    package init(path: String) throws(SafeTensorsError) {
        self.path = path
        do {
            file = try MappedFile(path: path)
        } catch {
            switch error {
            case .notFound: throw .fileMissing(path)
            case .unreadable(let m): throw .unreadable("\(path): \(m)")
            }
        }
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw .truncated("\(bytes.count) bytes, less than the 8-byte header length") }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength >= 2, headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw .badHeader("header length \(headerLength) is out of range")
        }
        guard Int(headerLength) <= bytes.count - 8 else {
            throw .truncated("the header needs \(headerLength) bytes, the file has \(bytes.count - 8) after the length")
        }
        let dataStart = 8 + Int(headerLength)
        let header: JSONValue
        do {
            header = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]))
        } catch {
            throw .badHeader(error.description)
        }
        guard let entries = header.objectValue else { throw .badHeader("not a JSON object") }
        let dataCount = bytes.count - dataStart
        var tensors: [String: TensorInfo] = [:]
        for (name, entry) in entries where name != "__metadata__" {
            guard let dtype = entry["dtype"]?.stringValue,
                  let shape = entry["shape"]?.arrayValue?.compactMap(\.intValue),
                  let offsets = entry["data_offsets"]?.arrayValue?.compactMap(\.intValue), offsets.count == 2,
                  shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1]
            else { throw .badHeader("entry \(name) lacks a valid dtype, shape or data_offsets") }
            guard offsets[1] <= dataCount else {
                throw .truncated("tensor \(name) ends at byte \(offsets[1]) of the data, which has \(dataCount)")
            }
            if let width = Self.dtypeWidth[dtype] {
                let elements = shape.reduce(1, *)
                guard elements * width == offsets[1] - offsets[0] else {
                    throw .badHeader("tensor \(name): \(elements) \(dtype) elements in \(offsets[1] - offsets[0]) bytes")
                }
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        self.tensors = tensors
        if Int(bitPattern: file.base + dataStart) % 8 == 0 {
            data = file.base + dataStart
            dataCopy = nil
        } else {
            let copy = UnsafeMutableRawPointer.allocate(byteCount: max(dataCount, 1), alignment: 64)
            copy.copyMemory(from: file.base + dataStart, byteCount: dataCount)
            data = UnsafeRawPointer(copy)
            dataCopy = copy
        }
    }

    deinit { dataCopy?.deallocate() }

    static let dtypeWidth: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    ]

    /// A copy of the F32 tensor `name`, checked against `shape`.
    package func float32(_ name: String, shape: [Int]) throws(SafeTensorsError) -> [Float] {
        Array(try float32Buffer(name, shape: shape))
    }

    /// The F32 tensor `name` where it lies, checked against `shape`; valid while this object is.
    func float32Buffer(_ name: String, shape: [Int]) throws(SafeTensorsError) -> UnsafeBufferPointer<Float> {
        guard let info = tensors[name] else { throw .tensorMissing(name) }
        guard info.dtype == "F32" else { throw .unsupportedDType(tensor: name, dtype: info.dtype) }
        guard info.shape == shape else { throw .shapeMismatch(tensor: name, expected: shape, found: info.shape) }
        let start = data + info.range.lowerBound
        guard Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 else {
            throw .badHeader("tensor \(name) starts at data offset \(info.range.lowerBound), not a multiple of 4")
        }
        return UnsafeBufferPointer(start: start.assumingMemoryBound(to: Float.self), count: info.range.count / 4)
    }
}
