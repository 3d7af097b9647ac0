using System.IO.Pipes;
using System.Net;
using System.Net.Sockets;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// GRACEFULHOSTING_CHILD set by hand to a control descriptor that exists but is no control channel: the
/// process refuses to start as a child with a clear error and exit code 1, and does not crash.
/// (Garbage, a descriptor below 3 and descriptors that are not open are in <see cref="StartupTests"/>.)
/// </summary>
/// <remarks>
/// The test opens the descriptor itself and clears its FD_CLOEXEC only while it starts the process,
/// as the master does, so the process inherits it under the same number. In the serial collection no
/// other test starts a process meanwhile that could inherit it too.
/// </remarks>
[Collection(SerialCollection.Name)]
public sealed class ChildMarkerFaultTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("bound TCP socket", "is not the master's control channel (an AF_UNIX packet socket).")]
    [InlineData("connected TCP socket", "is not the master's control channel (an AF_UNIX packet socket).")]
    [InlineData("UDP socket", "is not the master's control channel (an AF_UNIX packet socket).")]
    [InlineData("pipe", "is not a socket.")]
    [InlineData("regular file", "is not a socket.")]
    public async Task Child_MarkerNamesDescriptorThatIsNoControlChannel_ExitsWithCode1AndClearErrorWithoutCrash(string kind, string error)
    {
        using var temp = new TempDirectory();
        var disposables = new List<IDisposable>();
        try
        {
            int fd = Open(kind, temp.Path, disposables);
            string marker = $"generation=1;control={fd}";

            await using var child = StartInheriting(fd, marker);

            Assert.True(await child.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(1, child.ExitCode);
            Assert.Contains($"GracefulHosting: cannot start as a child: GRACEFULHOSTING_CHILD: control descriptor {fd} {error}", child.Output, StringComparison.Ordinal);
            // Exit code 1 from the check, not a crash: no unhandled exception, no abort (134), no dump.
            Assert.DoesNotContain("Unhandled exception", child.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("dump", child.Output, StringComparison.OrdinalIgnoreCase);
            Assert.False(child.HasLine("Now listening|Application started|Listening on"), child.Output);
        }
        finally
        {
            foreach (var disposable in disposables)
            {
                disposable.Dispose();
            }
        }
    }

    /// <remarks>
    /// The test plays the master on the control channel and refuses the socket the child's Kestrel asks
    /// for, as a master does for an address in use: the child fails like a failed bind, with the
    /// master's message, never reports ready, and exits with code 1.
    /// </remarks>
    [Fact]
    public async Task Child_MasterRefusesTheSocket_NeverReadyAndExitsWithCode1NamingTheCause()
    {
        using var temp = new TempDirectory();
        using var controlListener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        controlListener.Bind(new UnixDomainSocketEndPoint(Path.Combine(temp.Path, "control.sock")));
        controlListener.Listen();
        using var childEnd = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        await childEnd.ConnectAsync(controlListener.LocalEndPoint!);
        using var masterEnd = await controlListener.AcceptAsync();
        int controlFd = (int)childEnd.SafeHandle.DangerousGetHandle();

        await using var child = StartInheriting([controlFd], $"generation=1;control={controlFd}");

        var buffer = new byte[4096];
        var received = new System.Text.StringBuilder();
        int read = await masterEnd.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(60));
        string request = System.Text.Encoding.UTF8.GetString(buffer, 0, read);
        Assert.StartsWith("LISTEN\t127.0.0.1:0\tHttp\tKestrel:Endpoints:Http:Url = 'http://127.0.0.1:0'", request, StringComparison.Ordinal);
        await masterEnd.SendAsync(System.Text.Encoding.UTF8.GetBytes("ERR\tinuse\tCannot listen on 127.0.0.1:0 for a test: the address is already in use by another process."));

        Assert.True(await child.WaitForExitAsync(TimeSpan.FromSeconds(60)), child.Output);
        Assert.Equal(1, child.ExitCode);
        Assert.Contains("Cannot listen on 127.0.0.1:0 for a test: the address is already in use by another process.", child.Output, StringComparison.Ordinal);
        while ((read = masterEnd.Available > 0 || masterEnd.Poll(0, SelectMode.SelectRead) ? masterEnd.Receive(buffer) : 0) > 0)
        {
            received.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, read));
        }

        Assert.DoesNotContain("READY=1", received.ToString(), StringComparison.Ordinal);
        Assert.False(child.HasLine(@"Ready: serving on"), child.Output);
    }

    /// <summary>Starts the app with the marker, letting it inherit <paramref name="fd"/> under the same number.</summary>
    private MasterProcess StartInheriting(int fd, string marker) => StartInheriting([fd], marker);

    /// <summary>Starts the app with the marker, letting it inherit <paramref name="fds"/> under the same numbers.</summary>
    private MasterProcess StartInheriting(int[] fds, string marker)
    {
        foreach (int fd in fds)
        {
            Proc.SetCloseOnExec(fd, closeOnExec: false);
        }

        try
        {
            return MasterProcess.Start(environment: new Dictionary<string, string?> { ["GRACEFULHOSTING_CHILD"] = marker, ["DOTNET_DbgEnableMiniDump"] = "0" }, output: output);
        }
        finally
        {
            foreach (int fd in fds)
            {
                Proc.SetCloseOnExec(fd, closeOnExec: true);
            }
        }
    }

    /// <summary>Opens a descriptor of the given kind (close-on-exec, as .NET opens every one) and returns its number.</summary>
    private static int Open(string kind, string directory, List<IDisposable> disposables)
    {
        switch (kind)
        {
            case "bound TCP socket":
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                disposables.Add(socket);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                return (int)socket.SafeHandle.DangerousGetHandle();
            }

            case "connected TCP socket":
            {
                var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                disposables.Add(listener);
                listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                listener.Listen();
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                disposables.Add(socket);
                socket.Connect(listener.LocalEndPoint!);
                return (int)socket.SafeHandle.DangerousGetHandle();
            }

            case "UDP socket":
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                disposables.Add(socket);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                return (int)socket.SafeHandle.DangerousGetHandle();
            }

            case "pipe":
            {
                var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
                disposables.Add(pipe);
                return (int)pipe.SafePipeHandle.DangerousGetHandle();
            }

            case "regular file":
            {
                string path = Path.Combine(directory, "not-a-socket.txt");
                File.WriteAllText(path, "not a socket");
                var handle = File.OpenHandle(path);
                disposables.Add(handle);
                return (int)handle.DangerousGetHandle();
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }
}
