// WeighpointHTTP owns what the unit's and the receiver's HTTP listeners share below the
// routes: the connection guard (limits in all and per address, header and request timeouts).
// It may import NIO, Synchronization and WeighpointSystem.
import NIOCore
import NIOHTTPTypes
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import WeighpointSystem

/// What one client may hold of an HTTP listener, so that no neighbour on the network can take
/// the descriptors the store and cameras need or keep requests half-sent:
/// - connections in all, and from one address (an IPv6 client by its /64), are bounded (beyond
///   either, a new connection is closed at once and counted; the unit's own loopback address has
///   a few slots beyond the limit in all);
/// - a connection must send its request head within `headerTimeout` of opening (or of the end of
///   its last response), and the rest of the request within `requestTimeout` of the head; else it
///   is closed and counted. No timer runs while the unit itself works on a request.
/// The limit in all is kept below the process's descriptor limit with room for the store,
/// cameras and delivery (`effectiveMaxConnections`).
public final class ConnectionGuard: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxConnections = 256
        public var maxConnectionsPerAddress = 32
        public var headerTimeout: Duration = .seconds(10)
        public var requestTimeout: Duration = .seconds(30)
        public init() {}
    }

    /// Descriptors kept for everything but HTTP: the store (database, WAL, images being written),
    /// cameras, the WIM link, delivery, logs.
    public static let reservedDescriptors = 256

    public let limits: Limits
    /// `limits.maxConnections`, lowered to fit the descriptor limit.
    public let effectiveMaxConnections: Int
    private let state = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))
    private let onEvent: @Sendable (_ event: String) -> Void

    /// `onEvent` hears `refused_total`, `refused_address`, `header_timeout`, `request_timeout`.
    public init(limits: Limits, openFiles: Int? = ProcessLimits.openFiles, onEvent: @escaping @Sendable (String) -> Void = { _ in }) {
        self.limits = limits
        self.onEvent = onEvent
        let room = (openFiles ?? 1024) - Self.reservedDescriptors
        effectiveMaxConnections = max(8, min(limits.maxConnections, room))
    }

    /// Connections from the unit itself (127.0.0.1, ::1) admitted beyond the limit in all, so that
    /// the station's own monitoring reaches `/health` while the network holds every other slot.
    public static let loopbackReserve = 8

    /// Who the per-address limit counts a connection against: the IPv4 address, or the /64 of an
    /// IPv6 address (one host is given a whole /64 and can pick any address in it); an
    /// IPv4-mapped IPv6 address counts as its IPv4 address.
    public static func client(of address: String) -> String {
        guard address.contains(":") else { return address }
        var a = in6_addr()
        guard inet_pton(AF_INET6, address, &a) == 1 else { return address }
        let bytes = withUnsafeBytes(of: a) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12..<16].map(String.init).joined(separator: ".")
        }
        if address == "::1" { return address }
        let prefix = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return prefix.joined(separator: ":") + "::/64"
    }

    func admit(_ address: String) -> String? {
        let client = Self.client(of: address)
        let ownHost = client == "127.0.0.1" || client == "::1"
        return state.withLock { s in
            if s.total >= effectiveMaxConnections + (ownHost ? Self.loopbackReserve : 0) { return "refused_total" }
            if s.byAddress[client, default: 0] >= limits.maxConnectionsPerAddress { return "refused_address" }
            s.total += 1
            s.byAddress[client, default: 0] += 1
            return nil
        }
    }

    func release(_ address: String) {
        let client = Self.client(of: address)
        state.withLock { s in
            s.total -= 1
            let n = s.byAddress[client, default: 1] - 1
            s.byAddress[client] = n > 0 ? n : nil
        }
    }

    func note(_ event: String) { onEvent(event) }

    /// A fresh handler for one connection's pipeline (after HTTP decoding).
    public func handler() -> any RemovableChannelHandler { Handler(guard: self) }

    final class Handler: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart
        let owner: ConnectionGuard
        var address: String?
        var deadline: Scheduled<Void>?

        init(guard owner: ConnectionGuard) { self.owner = owner }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { opened(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            if address == nil { opened(context) }
            context.fireChannelActive()
        }

        private func opened(_ context: ChannelHandlerContext) {
            let peer = context.channel.remoteAddress?.ipAddress ?? "?"
            if let refusal = owner.admit(peer) {
                owner.note(refusal)
                context.close(promise: nil)
                return
            }
            address = peer
            arm(context, owner.limits.headerTimeout, "header_timeout")
        }

        func channelInactive(context: ChannelHandlerContext) {
            deadline?.cancel()
            if let address { owner.release(address) }
            address = nil
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: arm(context, owner.limits.requestTimeout, "request_timeout")
            case .end:
                deadline?.cancel()
                deadline = nil
            case .body: break
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { arm(context, owner.limits.headerTimeout, "header_timeout") }
            context.write(data, promise: promise)
        }

        private func arm(_ context: ChannelHandlerContext, _ after: Duration, _ event: String) {
            deadline?.cancel()
            let channel = context.channel, owner = self.owner
            deadline = context.eventLoop.scheduleTask(in: TimeAmount(after)) {
                owner.note(event)
                channel.close(promise: nil)
            }
        }
    }
}
