using System.Runtime.Versioning;
using GracefulHosting.Interop;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Master.Sockets;

[SupportedOSPlatform("linux")]
[Collection(DescriptorCollection.Name)]
public sealed class SocketTableInheritedHandleTests : IDisposable
{
    private readonly System.Net.Sockets.Socket _original = ListeningTcp();
    private readonly int _inherited;
    private readonly SocketTable _table;

    public SocketTableInheritedHandleTests()
    {
        _inherited = Duplicate(_original);
        _table = SocketTable.ForBinding([_inherited], NullLogger.Instance);
    }

    public void Dispose()
    {
        _table.Dispose();
        _original.Dispose();
    }

    [LinuxFact]
    public void Acquire_InheritedHandleAfterAGenerationThatNeverServed_StillGranted()
    {
        var request = new SocketRequest($"fd:{_inherited}", null, "an endpoint set in code");
        Assert.Equal(_inherited, _table.Acquire(1, request, out _));

        // Generation 1 fails to start; the master retries with generation 2.
        _table.Release(1);
        int fd = _table.Acquire(2, request, out var reply);

        Assert.True(reply.Granted, reply.Error);
        Assert.Equal(_original.LocalEndPoint, LocalOf(fd));
    }
}
