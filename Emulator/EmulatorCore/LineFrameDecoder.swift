import NIOCore

/// Splits a byte stream into newline-terminated lines (the newline dropped).
/// Over `maxLength` without a newline: for frames that is a protocol error (`LineTooLong`);
/// for logs (`truncate`) the head is emitted and the rest of the line skipped.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct LineTooLong: Error { let length: Int }

    let maxLength: Int
    let truncate: Bool
    private var scanned = 0
    private var skipping = false

    init(maxLength: Int, truncate: Bool = false) {
        self.maxLength = maxLength
        self.truncate = truncate
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let from = view.index(view.startIndex, offsetBy: scanned)
        if let newline = view[from...].firstIndex(of: 0x0A) {
            let length = view.distance(from: view.startIndex, to: newline)
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            scanned = 0
            if skipping {
                skipping = false
            } else {
                context.fireChannelRead(wrapInboundOut(line))
            }
            return .continue
        }
        scanned = view.count
        if scanned > maxLength {
            guard truncate else { throw LineTooLong(length: scanned) }
            if !skipping { context.fireChannelRead(wrapInboundOut(buffer.getSlice(at: buffer.readerIndex, length: maxLength)!)) }
            skipping = true
            buffer.moveReaderIndex(forwardBy: scanned)
            scanned = 0
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A log's last line may lack its newline; a frame cut off by a dying process is no frame
        // (the exit is reported as a crash, not as a protocol violation).
        if truncate, buffer.readableBytes > 0, !skipping, let rest = buffer.readSlice(length: buffer.readableBytes) {
            context.fireChannelRead(wrapInboundOut(rest))
        }
        return .needMoreData
    }
}
