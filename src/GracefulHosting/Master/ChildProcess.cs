using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Child;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master;

// Only this child holds its end of the socket pair, so no other local process can speak for it.
[SupportedOSPlatform("linux")]
internal sealed class ChildProcess : Supervision.IChild
{
    // systemd's variables are meant for the master only.
    internal static readonly string[] HiddenVariables =
        ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC"];

    private static readonly Lock SpawnLock = new();

    private readonly Process _process;
    private readonly Socket _control;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stoppedAccepting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SocketHandler _sockets;
    private readonly Diagnostics.ChildOutput _output;

    private ChildProcess(int generation, Process process, Socket control, SocketHandler sockets, TimeProvider time, ILogger logger)
    {
        Generation = generation;
        _process = process;
        _control = control;
        _sockets = sockets;
        _time = time;
        _logger = logger;
        _output = Diagnostics.ChildOutput.Forward(process, time);
        Pid = process.Id;
        StartedAt = time.GetTimestamp();
        StartedUtc = time.GetUtcNow();
        Exited = WaitForExitAsync();
        _ = ReadControlAsync();
    }

    public int Generation { get; }

    public int Pid { get; }

    public long StartedAt { get; }

    public DateTimeOffset StartedUtc { get; }

    // A TimeProvider time stamp, 0 until READY=1.
    public long ReadyAt { get; private set; }

    public Task Ready => _ready.Task;

    // The child sends STOPPING=1 once it has closed its listening descriptors; its exit completes this too.
    public Task StoppedAccepting => _stoppedAccepting.Task;

    public Task<int> Exited { get; }

    // Set once the master asked it to stop: its exit is then expected.
    public bool StopRequested { get; private set; }

    public string? Status { get; private set; }

    // The ExitTimeout of the child's own release, sent with READY=1; null until then.
    public TimeSpan? ExitTimeout { get; private set; }

    // As the child's Kestrel reports them, sent with READY=1.
    public IReadOnlyList<string> Urls { get; private set; } = [];

    // The master's last refusal of a socket to this child: the reason a start failed, where it did.
    public string? LastRefusal { get; private set; }

    public bool HasExited => Exited.IsCompleted;

    // The master's own descriptor, or -1 with the refusal.
    public delegate int SocketHandler(SocketRequest request, out SocketReply reply);

    public static ChildProcess Start(ChildCommand command, int generation, IReadOnlyList<string> hostingUrls, SocketHandler sockets,
        TimeProvider time, ILogger logger)
    {
        int error = Libc.CreateSeqPacketPair(out int masterEnd, out int childEnd);
        if (error != 0)
        {
            throw new InvalidOperationException($"socketpair failed with errno {error}.");
        }

        Socket? control = null;
        try
        {
            control = new Socket(new System.Net.Sockets.SafeSocketHandle(masterEnd, ownsHandle: true));
            var marker = new ChildMarker(generation, childEnd) { HostingUrls = hostingUrls };

            var startInfo = new ProcessStartInfo(command.FileName)
            {
                UseShellExecute = false,
                WorkingDirectory = command.WorkingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (string argument in command.Arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }

            foreach (string name in HiddenVariables)
            {
                startInfo.Environment.Remove(name);
            }

            foreach (var (name, value) in command.Environment)
            {
                startInfo.Environment[name] = value;
            }

            startInfo.Environment[ChildMarker.VariableName] = marker.Format();

            Process process;
            // Every descriptor .NET creates is close-on-exec. Only while this child is spawned is its end
            // of the control pair made inheritable, so no other child gets it; sockets follow on request.
            lock (SpawnLock)
            {
                int[] inheritable = [childEnd];
                // Descriptors this process inherited itself (from a shell, a CI runner) lack FD_CLOEXEC
                // too, and they are not the child's.
                CloseOnExecAllBut(inheritable);
                try
                {
                    foreach (int fd in inheritable)
                    {
                        int err = Libc.SetCloseOnExec(fd, closeOnExec: false);
                        if (err != 0)
                        {
                            throw new InvalidOperationException($"Cannot make descriptor {fd} inheritable: errno {err}.");
                        }
                    }

                    process = Process.Start(startInfo)
                        ?? throw new InvalidOperationException($"Cannot start '{command.FileName}'.");
                }
                finally
                {
                    foreach (int fd in inheritable)
                    {
                        Libc.SetCloseOnExec(fd, closeOnExec: true);
                    }
                }
            }

            return new ChildProcess(generation, process, control, sockets, time, logger);
        }
        catch
        {
            control?.Dispose();
            throw;
        }
        finally
        {
            Libc.Close(childEnd);
        }
    }

    private static void CloseOnExecAllBut(int[] keep)
    {
        foreach (string entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int fd) &&
                fd > 2 && !keep.Contains(fd))
            {
                // Fails with EBADF only for the descriptor that listed the directory, closed by now.
                Libc.SetCloseOnExec(fd, closeOnExec: true);
            }
        }
    }

    public void Terminate()
    {
        StopRequested = true;
        Send(Libc.SIGTERM);
    }

    // While it drains after this, its health check stays healthy: the next generation serves.
    public void AnnounceRestart()
    {
        if (HasExited)
        {
            return;
        }

        int error = UnixMessages.Send((int)_control.SafeHandle.DangerousGetHandle(), Encoding.UTF8.GetBytes(Child.Sockets.MasterChannel.RestartNotice), -1);
        if (error != 0)
        {
            MasterLog.ControlChannelClosed(_logger, Generation, Pid, $"cannot announce the restart: errno {error}");
        }
    }

    public void Kill()
    {
        StopRequested = true;
        Send(Libc.SIGKILL);
    }

    private void Send(int signal)
    {
        if (HasExited)
        {
            return;
        }

        Libc.Kill(Pid, signal);
    }

    private async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        await _output.WaitDrainedAsync().ConfigureAwait(false);
        _stoppedAccepting.TrySetResult();
        return _process.ExitCode;
    }

    private async Task ReadControlAsync()
    {
        // Pooled, as every child has one: a master that restarts often must not leave one behind per child.
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                int read = await _control.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                string packet = Encoding.UTF8.GetString(buffer, 0, read);
                if (packet.StartsWith(SocketRequest.Verb + "\t", StringComparison.Ordinal))
                {
                    AnswerSocketRequest(packet);
                    continue;
                }

                bool ready = false;
                foreach (string line in packet.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (line == "READY=1")
                    {
                        ready = true;
                    }
                    else if (line == "STOPPING=1")
                    {
                        _stoppedAccepting.TrySetResult();
                    }
                    else if (line.StartsWith("STATUS=", StringComparison.Ordinal))
                    {
                        Status = line["STATUS=".Length..];
                    }
                    else if (line.StartsWith("EXIT_TIMEOUT_USEC=", StringComparison.Ordinal) &&
                        long.TryParse(line.AsSpan("EXIT_TIMEOUT_USEC=".Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long usec) &&
                        usec > 0 && usec <= (long)TimeSpan.FromDays(1).TotalMicroseconds)
                    {
                        ExitTimeout = TimeSpan.FromMicroseconds(usec);
                    }
                    else if (line.StartsWith("URLS=", StringComparison.Ordinal))
                    {
                        Urls = line["URLS=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    }
                }

                // After the whole packet: what came with READY=1 (URLS=, EXIT_TIMEOUT_USEC=) is known by then.
                if (ready)
                {
                    if (ReadyAt == 0)
                    {
                        ReadyAt = _time.GetTimestamp();
                    }

                    await _output.CatchUpAsync().ConfigureAwait(false);
                    _ready.TrySetResult();
                }
            }
        }
        catch (Exception e)
        {
            // Whatever ends the read (the child's exit, our Dispose, anything else) ends only this loop.
            MasterLog.ControlChannelClosed(_logger, Generation, Pid, e.Message);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Whatever throws is answered as a refusal, so that neither the child nor this loop is left waiting.
    private void AnswerSocketRequest(string packet)
    {
        SocketReply reply;
        int fd = -1;
        try
        {
            var request = SocketRequest.Parse(packet);
            if (request is null)
            {
                reply = SocketReply.Refuse(SocketRefusal.Other, "The master cannot read this socket request.");
            }
            else
            {
                fd = _sockets(request, out reply);
            }
        }
        catch (Exception e)
        {
            MasterLog.StepFailed(_logger, $"the socket request of generation {Generation}", e);
            reply = SocketReply.Refuse(SocketRefusal.Other, $"The master failed to answer: {e.Message}");
            fd = -1;
        }

        if (!reply.Granted)
        {
            LastRefusal = reply.Error;
        }

        int error = UnixMessages.Send((int)_control.SafeHandle.DangerousGetHandle(), Encoding.UTF8.GetBytes(reply.Format()), reply.Granted ? fd : -1);
        if (error != 0)
        {
            MasterLog.ControlChannelClosed(_logger, Generation, Pid, $"cannot answer a socket request: errno {error}");
        }
    }

    // As a shell would: a signal as 128+n.
    public static string DescribeExit(int code) =>
        code > 128 && code < 128 + 65 ? $"signal {code - 128} (exit code {code})" : $"exit code {code}";

    public void Dispose()
    {
        _control.Dispose();
        _process.Dispose();
    }
}
