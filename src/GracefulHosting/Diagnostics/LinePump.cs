namespace GracefulHosting.Diagnostics;

// One write per batch of whole lines, under the master's console lock, so that no line of one process is cut by another's.
internal sealed class LinePump
{
    // journald's own limit; a longer line is cut there, on a UTF-8 character boundary.
    public const int DefaultMaxLine = 48 * 1024;

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly Stream _source;
    private readonly Stream _target;
    private readonly object _gate;
    private readonly byte[] _buffer;
    private readonly int _maxLine;
    private bool _targetFailed;
    private volatile bool _completed;
    private long _read;
    private long _forwarded;
    private TaskCompletionSource _progress = NewProgress();

    public LinePump(Stream source, Stream target, object gate, int maxLine = DefaultMaxLine)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLine, 4);
        _source = source;
        _target = target;
        _gate = gate;
        // Pooled: a master that starts a child a second for months must not leave a buffer per child behind.
        _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(maxLine);
        _maxLine = maxLine;
    }

    // A failing target never stops the reading, so a child never blocks on a full pipe when the master's output is gone.
    public async Task RunAsync()
    {
        int held = 0;
        try
        {
            while (true)
            {
                int read = await _source.ReadAsync(_buffer.AsMemory(held, _maxLine - held)).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                Interlocked.Add(ref _read, read);
                held += read;
                held = ForwardWholeLines(held);
                Interlocked.Add(ref _forwarded, read);
                Interlocked.Exchange(ref _progress, NewProgress()).TrySetResult();
            }
        }
        catch (Exception)
        {
            // Whatever ends the read (the pipe closed under us, anything else) ends only this pump: what was held is all there is.
        }

        if (held > 0)
        {
            Write(_buffer.AsSpan(0, held), addNewLine: true);
        }

        System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
        _completed = true;
        _progress.TrySetResult();
    }

    public long Forwarded => Interlocked.Read(ref _forwarded);

    public bool Completed => _completed;

    // Covers what was read so far and the bytes waiting() reports in the source: their whole lines are written by then.
    public async Task CatchUpAsync(Func<int> waiting)
    {
        // What was read first, then what waits: a read between the two is then counted once, never twice
        // (counted twice, the target could never be reached).
        long target = Interlocked.Read(ref _read);
        target += waiting();
        while (true)
        {
            // Taken before the check: progress made after the check completes this one.
            var progress = Volatile.Read(ref _progress);
            if (Completed || Interlocked.Read(ref _forwarded) >= target)
            {
                return;
            }

            await progress.Task.ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource NewProgress() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int ForwardWholeLines(int held)
    {
        int end = _buffer.AsSpan(0, held).LastIndexOf((byte)'\n') + 1;
        bool cut = false;
        if (end == 0)
        {
            if (held < _maxLine)
            {
                return held;
            }

            end = Utf8Boundary(_buffer.AsSpan(0, held));
            cut = true;
        }

        Write(_buffer.AsSpan(0, end), addNewLine: cut);
        _buffer.AsSpan(end, held - end).CopyTo(_buffer);
        return held - end;
    }

    internal static int Utf8Boundary(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.Length;
        // Back over at most three continuation bytes (10xxxxxx) to the start of the last character.
        for (int back = 0; back < 4 && end - back - 1 >= 0; back++)
        {
            byte b = bytes[end - back - 1];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            int length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return back + 1 >= length ? end : end - back - 1;
        }

        // Not UTF-8: cut anywhere.
        return end;
    }

    private void Write(ReadOnlySpan<byte> bytes, bool addNewLine)
    {
        if (_targetFailed)
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                _target.Write(bytes);
                if (addNewLine)
                {
                    _target.Write(NewLine);
                }

                _target.Flush();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            // The master's output is gone: there is nowhere left to write these lines, or to log that.
            _targetFailed = true;
        }
    }
}
