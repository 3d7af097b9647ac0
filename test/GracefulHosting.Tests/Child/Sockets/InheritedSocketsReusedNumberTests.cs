using System.Runtime.Versioning;
using GracefulHosting.Child;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Child.Sockets;

[SupportedOSPlatform("linux")]
[Collection(DescriptorCollection.Name)]
public sealed class InheritedSocketsReusedNumberTests : IDisposable
{
    private readonly System.Net.Sockets.Socket _listener = ListeningTcp();
    private readonly List<int> _given = [];
    private readonly InheritedSockets _sockets;
    private readonly FakeListenSocketSource _source;

    public InheritedSocketsReusedNumberTests()
    {
        _source = new FakeListenSocketSource(_ =>
        {
            _given.Add(Duplicate(_listener));
            return _given[^1];
        });
        _sockets = new InheritedSockets(new ChildMarker(1, 3), _source);
    }

    public void Dispose()
    {
        foreach (int fd in _given.Distinct())
        {
            if (IsListening(fd))
            {
                Libc.Close(fd);
            }
        }

        _listener.Dispose();
    }

    [LinuxFact]
    public async Task Close_SocketTakenUnderANumberClosedBefore_ClosesIt()
    {
        // Kestrel reloaded and dropped 127.0.0.1:1: its socket went back and was closed.
        var dropped = await _sockets.TakeAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None);
        _sockets.Return(dropped);
        _sockets.CloseReturned();
        // A later reload adds 127.0.0.1:2: the new descriptor gets the lowest free number, the same one.
        var added = await _sockets.TakeAsync(new SocketRequest("127.0.0.1:2", null, "s"), CancellationToken.None);
        Assert.Equal(dropped.Fd, added.Fd);

        // The drain closes it.
        _sockets.Close(added.Fd);

        Assert.Equal(-1, Libc.GetDescriptorFlags(added.Fd));
    }

    [LinuxFact]
    public async Task Return_SocketTakenUnderANumberClosedBefore_KeptForTheNextBind()
    {
        var dropped = await _sockets.TakeAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None);
        _sockets.Return(dropped);
        _sockets.CloseReturned();
        var request = new SocketRequest("127.0.0.1:2", null, "s");
        var added = await _sockets.TakeAsync(request, CancellationToken.None);
        Assert.Equal(dropped.Fd, added.Fd);

        _sockets.Return(added);
        var again = await _sockets.TakeAsync(request, CancellationToken.None);

        Assert.Same(added, again);
        Assert.Equal(2, _source.Requests.Count);
    }
}
