using GracefulHosting.Protocol;

namespace GracefulHosting.Child.Sockets;

/// <summary>Where a serving process gets the listening socket for each endpoint its Kestrel binds.</summary>
internal interface IListenSocketSource
{
    /// <summary>Who hands the sockets over, for messages: the master, or systemd.</summary>
    string Name { get; }

    /// <summary>
    /// A listening descriptor of the caller's own (close-on-exec) for <paramref name="request"/>. Throws
    /// what a failed bind throws, with a message that names the endpoint, its setting and the cause.
    /// </summary>
    ValueTask<int> AcquireAsync(SocketRequest request, CancellationToken cancellationToken);

    /// <summary>Called once the process serves on every socket, with the URLs Kestrel reports.</summary>
    void Serving(IReadOnlyList<string> urls)
    {
    }
}
