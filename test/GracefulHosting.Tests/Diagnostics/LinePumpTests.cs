using System.IO.Pipelines;
using System.IO.Pipes;
using System.Text;
using GracefulHosting.Diagnostics;

namespace GracefulHosting.Tests.Diagnostics;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LinePumpTests
{
    [Fact]
    public async Task RunAsync_LinesArriveInPieces_EachWriteHoldsWholeLinesOnly()
    {
        var target = new RecordingStream();
        var source = new Pipe();
        var run = new LinePump(source.Reader.AsStream(), target, new object()).RunAsync();

        foreach (string piece in new[] { "first li", "ne\nsecond line\nthi", "rd\n" })
        {
            await source.Writer.WriteAsync(Encoding.UTF8.GetBytes(piece));
        }

        await source.Writer.CompleteAsync();
        await run;

        Assert.Equal("first line\nsecond line\nthird\n", string.Concat(target.Writes));
        Assert.All(target.Writes, w => Assert.EndsWith("\n", w, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_SourceEndsInsideALine_LineWrittenWithANewLine()
    {
        var target = new RecordingStream();

        await new LinePump(new MemoryStream("whole\nlast words"u8.ToArray()), target, new object()).RunAsync();

        Assert.Equal("whole\nlast words\n", string.Concat(target.Writes));
    }

    [Fact]
    public async Task RunAsync_LineLongerThanLimit_CutAtTheLimitNotInsideACharacter()
    {
        var target = new RecordingStream();
        // 7 ASCII bytes, then a 3-byte character across the 8-byte limit.
        byte[] text = Encoding.UTF8.GetBytes("abcdefg€hijklmnop\n");

        await new LinePump(new MemoryStream(text), target, new object(), maxLine: 8).RunAsync();

        Assert.Equal("abcdefg\n€hijkl\nmnop\n", string.Concat(target.Writes));
        Assert.All(target.Writes, w => Assert.True(Encoding.UTF8.GetByteCount(w) <= 9, w));
    }

    [Fact]
    public async Task RunAsync_TargetFails_KeepsReadingToTheEnd()
    {
        var source = new MemoryStream(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("line\n", 10_000))));

        await new LinePump(source, new RecordingStream { Fail = true }, new object(), maxLine: 64).RunAsync();

        Assert.Equal(source.Length, source.Position);
    }

    [LinuxFact]
    public async Task CatchUpAsync_LinesWaitingInThePipe_CompletesOnlyOnceTheyAreWritten()
    {
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        using var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        var target = new RecordingStream();
        var gate = new object();
        var pump = new LinePump(client, target, gate);
        int fd = (int)client.SafePipeHandle.DangerousGetHandle();

        server.Write("child line\n"u8);
        server.Flush();
        // Asked before the pump runs: the line waits in the pipe.
        var caughtUp = pump.CatchUpAsync(() => GracefulHosting.Interop.Libc.BytesToRead(fd));
        // Holding the gate stalls the pump's first write, as a slow master output would.
        lock (gate)
        {
            _ = Task.Run(pump.RunAsync);
            Assert.False(caughtUp.IsCompleted, "caught up before the line was written");
        }

        await caughtUp.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("child line\n", string.Concat(target.Writes));
        await pump.CatchUpAsync(() => GracefulHosting.Interop.Libc.BytesToRead(fd)).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [LinuxFact]
    public async Task CatchUpAsync_ReadBetweenTheTwoCounts_CountedOnceAndCompletes()
    {
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        using var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        var target = new RecordingStream();
        var pump = new LinePump(client, target, new object());
        int fd = (int)client.SafePipeHandle.DangerousGetHandle();
        server.Write("child line\n"u8);
        server.Flush();

        // The pump reads the line while the waiting bytes are counted: they were counted in the pipe
        // before, and must not be counted again as read.
        await pump.CatchUpAsync(() =>
        {
            int waiting = GracefulHosting.Interop.Libc.BytesToRead(fd);
            _ = Task.Run(pump.RunAsync);
            Assert.True(SpinWait.SpinUntil(() => pump.Forwarded > 0, TimeSpan.FromSeconds(10)), "the pump did not read the line");
            return waiting;
        }).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("child line\n", string.Concat(target.Writes));
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0x62 }, 2)]
    [InlineData(new byte[] { 0x61, 0xE2, 0x82 }, 1)]
    [InlineData(new byte[] { 0x61, 0xE2, 0x82, 0xAC }, 4)]
    [InlineData(new byte[] { 0x61, 0xF0, 0x9F, 0x98 }, 1)]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80 }, 5)]
    public void Utf8Boundary_EndsOnlyAfterWholeCharacters(byte[] bytes, int expected) =>
        Assert.Equal(expected, LinePump.Utf8Boundary(bytes));

    /// <summary>Records each write as text; with <see cref="Fail"/>, every write throws as a closed pipe would.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly StringBuilder _current = new();

        public bool Fail { get; init; }

        public List<string> Writes { get; } = [];

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Fail)
            {
                throw new IOException("Broken pipe");
            }

            _current.Append(Encoding.UTF8.GetString(buffer));
        }

        // A flush ends one batch: what the pump hands over between flushes is one write.
        public override void Flush()
        {
            Writes.Add(_current.ToString());
            _current.Clear();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
