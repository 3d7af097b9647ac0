using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Child;
using GracefulHosting.Interop;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master;

/// <summary>
/// One generation of the app, started by the master. It inherits the listening sockets and one end
/// of a private socket pair, over which it reports readiness. Only this child holds that end, so no
/// other local process can speak for it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ChildProcess : IDisposable
{
    /// <summary>Environment variables a child must not see: systemd's are meant for the master only.</summary>
    internal static readonly string[] HiddenVariables =
        ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC"];

    private static readonly Lock SpawnLock = new();

    private readonly Process _process;
    private readonly Socket _control;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stoppedAccepting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Diagnostics.ChildOutput _output;

    private ChildProcess(int generation, Process process, Socket control, TimeProvider time, ILogger logger)
    {
        Generation = generation;
        _process = process;
        _control = control;
        _time = time;
        _logger = logger;
        _output = Diagnostics.ChildOutput.Forward(process, time);
        Pid = process.Id;
        StartedAt = time.GetTimestamp();
        Exited = WaitForExitAsync();
        _ = ReadControlAsync();
    }

    public int Generation { get; }

    public int Pid { get; }

    public long StartedAt { get; }

    /// <summary>The <see cref="TimeProvider"/> time stamp of the child's READY=1, or 0 until then.</summary>
    public long ReadyAt { get; private set; }

    /// <summary>Completes when the child reports READY=1.</summary>
    public Task Ready => _ready.Task;

    /// <summary>
    /// Completes when the child reports STOPPING=1, which it sends once it has closed its listening
    /// descriptors, or when it has exited.
    /// </summary>
    public Task StoppedAccepting => _stoppedAccepting.Task;

    /// <summary>Completes with the exit code when the child has exited and been reaped.</summary>
    public Task<int> Exited { get; }

    /// <summary>True once the master has asked this child to stop; its exit is then expected.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>The child's last STATUS= message.</summary>
    public string? Status { get; private set; }

    public bool HasExited => Exited.IsCompleted;

    public static ChildProcess Start(ChildCommand command, ListenSocketSet sockets, int generation, TimeProvider time, ILogger logger)
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
            var marker = sockets.CreateMarker(generation, childEnd);

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
            // Every descriptor .NET creates is close-on-exec. Only while this child is spawned are
            // its sockets and its end of the control pair made inheritable, so no other child gets them.
            lock (SpawnLock)
            {
                var inheritable = sockets.Listeners.Select(l => l.Fd).Append(childEnd).ToArray();
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

            return new ChildProcess(generation, process, control, time, logger);
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

    /// <summary>Sets FD_CLOEXEC on every descriptor of this process above stdio except <paramref name="keep"/>.</summary>
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

    /// <summary>Asks the child to stop gracefully (SIGTERM).</summary>
    public void Terminate()
    {
        StopRequested = true;
        Send(Libc.SIGTERM);
    }

    /// <summary>Kills the child at once (SIGKILL).</summary>
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
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int read = await _control.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                foreach (string line in Encoding.UTF8.GetString(buffer, 0, read).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (line == "READY=1")
                    {
                        if (ReadyAt == 0)
                        {
                            ReadyAt = _time.GetTimestamp();
                        }

                        await _output.CatchUpAsync().ConfigureAwait(false);

                        _ready.TrySetResult();
                    }
                    else if (line == "STOPPING=1")
                    {
                        _stoppedAccepting.TrySetResult();
                    }
                    else if (line.StartsWith("STATUS=", StringComparison.Ordinal))
                    {
                        Status = line["STATUS=".Length..];
                    }
                }
            }
        }
        catch (Exception e)
        {
            // Whatever ends the read (the child's exit, our Dispose, anything else) ends only this loop.
            MasterLog.ControlChannelClosed(_logger, Generation, Pid, e.Message);
        }
    }

    /// <summary>Describes an exit code the way a shell would: signals as 128+n.</summary>
    public static string DescribeExit(int code) =>
        code > 128 && code < 128 + 65 ? $"signal {code - 128} (exit code {code})" : $"exit code {code}";

    public void Dispose()
    {
        _control.Dispose();
        _process.Dispose();
    }
}
