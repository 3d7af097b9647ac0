using GracefulHosting.Protocol;

namespace GracefulHosting.Child.Sockets;

// The master (MasterChannel), or systemd in Direct mode (ActivatedSocketSource).
internal interface IListenSocketSource
{
    string Name { get; }

    // A close-on-exec fd the caller owns; a refusal throws what a failed bind throws, so Kestrel treats it like its own bind error.
    ValueTask<int> AcquireAsync(SocketRequest request, CancellationToken cancellationToken);

    // Only systemd's source needs them: with no master to hear READY, it logs each socket's URL itself.
    void Serving(IReadOnlyList<string> urls)
    {
    }
}
