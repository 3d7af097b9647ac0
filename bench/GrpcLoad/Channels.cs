using Grpc.Net.Client;

namespace GrpcLoad;

internal static class Channels
{
    // No retry policy and no retries at all: every call the server does not complete counts.
    public static GrpcChannel Open(Uri address) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxRetryAttempts = 0 });

    public static double UnixMilliseconds() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;
}
