using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Child.Drain;

// Counts the connections the inherited listeners accept, so the drain knows when none is left.
internal sealed class DrainState
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _idle = NewIdle(completed: true);
    private readonly TaskCompletionSource _began = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _open;
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public Task Began => _began.Task;

    public int OpenConnections => Volatile.Read(ref _open);

    public void BeginDraining()
    {
        _draining = true;
        _began.TrySetResult();
    }

    public void Track(ConnectionContext connection)
    {
        lock (_lock)
        {
            if (_open++ == 0)
            {
                _idle = NewIdle(completed: false);
            }
        }

        connection.ConnectionClosed.Register(static state => ((DrainState)state!).OnClosed(), this);
    }

    public async Task WaitForIdleAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        Task idle;
        lock (_lock)
        {
            idle = _idle.Task;
        }

        await Task.WhenAny(idle, Task.Delay(timeout, time, cancellationToken)).ConfigureAwait(false);
    }

    private void OnClosed()
    {
        lock (_lock)
        {
            if (--_open == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            source.SetResult();
        }

        return source;
    }
}
