using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Interop;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Interop;

/// <summary>sendmsg/recvmsg with SCM_RIGHTS over a real SOCK_SEQPACKET pair.</summary>
[SupportedOSPlatform("linux")]
public sealed class UnixMessagesTests : IDisposable
{
    private int _sender;
    private int _receiver;
    private readonly List<int> _received = [];

    public UnixMessagesTests()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out _sender, out _receiver));
    }

    public void Dispose()
    {
        foreach (int fd in _received)
        {
            Libc.Close(fd);
        }

        CloseEnd(ref _sender);
        CloseEnd(ref _receiver);
    }

    /// <summary>Closes one end once: a number closed twice could be another test's descriptor by then.</summary>
    private static void CloseEnd(ref int fd)
    {
        if (fd >= 0)
        {
            Libc.Close(fd);
            fd = -1;
        }
    }

    [LinuxFact]
    public async Task SendThenReceive_WithDescriptor_ReceivesACloseOnExecDescriptorOfTheSameListeningSocket()
    {
        using var listener = ListeningTcp();

        Assert.Equal(0, UnixMessages.Send(_sender, "OK\t127.0.0.1:0"u8, Fd(listener)));
        var buffer = new byte[1024];
        int read = UnixMessages.Receive(_receiver, buffer, out int fd);
        _received.Add(fd);

        Assert.Equal("OK\t127.0.0.1:0", Encoding.UTF8.GetString(buffer, 0, read));
        Assert.True(fd >= 0);
        Assert.NotEqual(Fd(listener), fd);
        Assert.True(IsCloseOnExec(fd));
        Assert.True(IsListening(fd));
        Assert.Equal(listener.LocalEndPoint, LocalOf(fd));
        // A client that connects through the received descriptor's address is accepted by the original.
        await AssertAcceptsAsync(listener, LocalOf(fd)!);
    }

    [LinuxFact]
    public void SendThenReceive_WithoutDescriptor_ReceivesMinusOne()
    {
        Assert.Equal(0, UnixMessages.Send(_sender, "READY=1\n"u8));
        var buffer = new byte[1024];

        int read = UnixMessages.Receive(_receiver, buffer, out int fd);

        Assert.Equal("READY=1\n", Encoding.UTF8.GetString(buffer, 0, read));
        Assert.Equal(-1, fd);
    }

    [LinuxFact]
    public void Receive_SeveralPackets_KeepsTheirBoundaries()
    {
        Assert.Equal(0, UnixMessages.Send(_sender, "first"u8));
        Assert.Equal(0, UnixMessages.Send(_sender, "second"u8));
        var buffer = new byte[1024];

        int first = UnixMessages.Receive(_receiver, buffer, out _);
        string firstText = Encoding.UTF8.GetString(buffer, 0, first);
        int second = UnixMessages.Receive(_receiver, buffer, out _);

        Assert.Equal("first", firstText);
        Assert.Equal("second", Encoding.UTF8.GetString(buffer, 0, second));
    }

    [LinuxFact]
    public void Receive_PacketLargerThanTheBuffer_MinusEmsgsizeAndNoDescriptor()
    {
        using var listener = ListeningTcp();
        Assert.Equal(0, UnixMessages.Send(_sender, "0123456789"u8, Fd(listener)));
        var buffer = new byte[4];

        int read = UnixMessages.Receive(_receiver, buffer, out int fd);

        Assert.Equal(-90, read);
        Assert.Equal(-1, fd);
    }

    [LinuxFact]
    public void Receive_PeerClosed_Zero()
    {
        int receiver = _receiver;
        CloseEnd(ref _sender);
        var buffer = new byte[16];

        int read = UnixMessages.Receive(receiver, buffer, out int fd);

        Assert.Equal(0, read);
        Assert.Equal(-1, fd);
    }

    [LinuxFact]
    public void Send_PeerClosed_ReturnsErrno()
    {
        int sender = _sender;
        CloseEnd(ref _receiver);

        int error = UnixMessages.Send(sender, "READY=1\n"u8);

        Assert.NotEqual(0, error);
    }

    [LinuxFact]
    public void Send_NotASocket_ReturnsErrno()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);

            Assert.Equal(Libc.ENOTSOCK, UnixMessages.Send((int)file.SafeFileHandle.DangerousGetHandle(), "x"u8));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [LinuxFact]
    public async Task Shutdown_ReceiverBlocked_WakesItWithEndOfFile()
    {
        var receive = Task.Run(() => UnixMessages.Receive(_receiver, new byte[16], out _));
        await Task.Delay(50);

        Assert.Equal(0, UnixMessages.Shutdown(_receiver));

        Assert.Equal(0, await receive.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [LinuxFact]
    public void GetPeer_SocketPair_ThisProcessAndUser()
    {
        Assert.Equal(0, UnixMessages.GetPeer(_receiver, out int pid, out uint uid));

        Assert.Equal(Environment.ProcessId, pid);
        Assert.Equal(Libc.GetEffectiveUserId(), uid);
    }
}
