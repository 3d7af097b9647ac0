/// <summary>
/// For the log tests: every process of the app (the master and each child, since Program.cs runs in
/// both) writes a burst of long lines straight to standard output once a FIFO opens for writing, so
/// that several processes write at the same moment. Each line names its pid and number, so a line cut
/// or merged with another is seen.
/// </summary>
internal static class LogFlood
{
    /// <summary>Starts the burst on its own thread; returns a task that completes when it is written.</summary>
    public static Task Start(string gate, int lines, int length)
    {
        int pid = Environment.ProcessId;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Console.Out.WriteLine($"Log flood armed (pid {pid})");
                // Opening a FIFO for reading blocks until the test opens it for writing: a barrier across processes.
                using (File.OpenRead(gate))
                {
                }

                string padding = new('x', length);
                for (int i = 0; i < lines; i++)
                {
                    Console.Out.WriteLine($"flood {pid} {i} {padding}");
                }

                Console.Out.WriteLine($"Log flood done (pid {pid})");
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "Log flood" };
        thread.Start();
        return done.Task;
    }
}
