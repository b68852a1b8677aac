/// What a keystroke completed.
public enum LineEvent: Equatable, Sendable {
    /// Enter, with the line typed (valid UTF-8, control bytes removed).
    case line(String)
    /// Enter after a line longer than the limit; the line is discarded. Carries the bytes dropped.
    case tooLong(dropped: Int)
    /// Ctrl-C: the line (or the running command) is abandoned.
    case interrupt
    /// Ctrl-D on an empty line.
    case endOfInput
}

/// Line editing for terminal programs on a serial line (minicom, PuTTY, screen) and standard
/// input: echo, backspace (BS or DEL), Ctrl-U (erase line), Ctrl-W (erase word), Ctrl-C, Ctrl-D,
/// and Enter as CR, LF or CR LF alike (each terminal sends its own). Escape sequences (arrow and
/// function keys) and other control bytes are swallowed, bytes that are not UTF-8 are dropped,
/// and a line never grows past `maxBytes`: the rest is refused with a bell and the line is
/// reported as too long. With `echo` off (PIN entry) nothing typed is shown.
public struct LineEditor: Sendable {
    public var echo = true
    public let maxBytes: Int
    private var buffer: [UInt8] = []
    private var dropped = 0
    private var afterCR = false
    private var escape = Escape.none
    private var escapeLength = 0
    /// A UTF-8 sequence being collected, and how many bytes it needs.
    private var pending: [UInt8] = []
    private var pendingNeeds = 0

    private enum Escape { case none, start, csi, ss3 }

    public init(maxBytes: Int = 200) { self.maxBytes = maxBytes }

    /// Bytes of the line typed so far.
    public var count: Int { buffer.count }

    /// Forgets the line being typed (e.g. when a prompt changes).
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        dropped = 0
        pending.removeAll()
        pendingNeeds = 0
        escape = .none
    }

    /// Feeds one byte; returns an event when it completes one, and appends the echo to `output`.
    public mutating func feed(_ b: UInt8, echo output: inout [UInt8]) -> LineEvent? {
        let wasAfterCR = afterCR
        afterCR = false
        if escape != .none { return continueEscape(b, &output) }
        if !pending.isEmpty || (b >= 0xC2 && b <= 0xF4) { return collectUTF8(b, &output) }
        switch b {
        case 0x0D:  // CR: Enter for most terminal programs; an LF right after it is the same Enter
            afterCR = true
            return enter(&output)
        case 0x0A:
            return wasAfterCR ? nil : enter(&output)
        case 0x08, 0x7F:
            eraseLast(&output)
        case 0x15:  // Ctrl-U
            while !buffer.isEmpty { eraseLast(&output) }
            dropped = 0
        case 0x17:  // Ctrl-W
            while buffer.last == 0x20 { eraseLast(&output) }
            while let last = buffer.last, last != 0x20 { eraseLast(&output) }
        case 0x03:  // Ctrl-C
            reset()
            if echo { output += Array("^C".utf8) }
            output += [0x0D, 0x0A]
            return .interrupt
        case 0x04:  // Ctrl-D
            if buffer.isEmpty { return .endOfInput }
        case 0x1B:
            escape = .start
            escapeLength = 0
        case 0x09:
            append([0x20], &output)
        case 0x20...0x7E:
            append([b], &output)
        default:
            break  // other control bytes, stray continuation bytes, 0xC0/0xC1/0xF5…: not text
        }
        return nil
    }

    private mutating func continueEscape(_ b: UInt8, _ output: inout [UInt8]) -> LineEvent? {
        // A control byte inside an escape sequence is carried out, not swallowed (ECMA-48): a
        // Ctrl-C or Enter after line noise must still work. A byte that no sequence holds ends it.
        if b < 0x20 || b >= 0x80 {
            escape = .none
            return b < 0x20 ? feed(b, echo: &output) : nil
        }
        escapeLength += 1
        switch escape {
        case .start: escape = b == UInt8(ascii: "[") ? .csi : b == UInt8(ascii: "O") ? .ss3 : .none
        case .ss3: escape = .none
        case .csi: if (0x40...0x7E).contains(b) || escapeLength > 16 { escape = .none }
        case .none: break
        }
        return nil
    }

    private mutating func collectUTF8(_ b: UInt8, _ output: inout [UInt8]) -> LineEvent? {
        if pending.isEmpty {
            pending = [b]
            pendingNeeds = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
            return nil
        }
        guard b & 0xC0 == 0x80 else {
            // A broken sequence: drop it, and take this byte afresh.
            pending.removeAll()
            return feed(b, echo: &output)
        }
        pending.append(b)
        guard pending.count == pendingNeeds else { return nil }
        let seq = pending
        pending.removeAll()
        // Overlong forms and surrogates decode to nothing valid: drop them.
        var it = seq.makeIterator()
        var decoder = UTF8()
        if case .scalarValue = decoder.decode(&it) { append(seq, &output) }
        return nil
    }

    private mutating func append(_ bytes: [UInt8], _ output: inout [UInt8]) {
        guard buffer.count + bytes.count <= maxBytes, dropped == 0 else {
            if dropped == 0 { output.append(0x07) }  // one bell when the line fills up
            dropped += bytes.count
            return
        }
        buffer += bytes
        if echo { output += bytes }
    }

    private mutating func eraseLast(_ output: inout [UInt8]) {
        guard !buffer.isEmpty else { return }
        var start = buffer.count - 1
        while start > 0 && buffer[start] & 0xC0 == 0x80 { start -= 1 }
        let scalar = String(decoding: buffer[start...], as: UTF8.self).unicodeScalars.first.map(\.value) ?? 0x20
        buffer.removeSubrange(start...)
        if echo { for _ in 0..<Self.columns(scalar) { output += [0x08, 0x20, 0x08] } }
    }

    private mutating func enter(_ output: inout [UInt8]) -> LineEvent {
        output += [0x0D, 0x0A]
        defer { reset() }
        if dropped > 0 { return .tooLong(dropped: dropped) }
        return .line(String(decoding: buffer, as: UTF8.self))
    }

    /// Terminal columns of a character: two for East Asian wide characters (CJK, Hangul,
    /// full-width forms), so that backspace erases all of it.
    static func columns(_ v: UInt32) -> Int {
        switch v {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD: 2
        default: 1
        }
    }
}
