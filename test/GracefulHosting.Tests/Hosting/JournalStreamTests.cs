using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Hosting;

namespace GracefulHosting.Tests.Hosting;

[SupportedOSPlatform("linux")]
public sealed class JournalStreamTests
{
    [LinuxFact]
    public void JournalDescriptors_ComparesTheInodeOfEachOutputWithJournalStream()
    {
        string? Both(int fd) => "socket:[4242]";
        string? OnlyOutput(int fd) => fd == 1 ? "socket:[4242]" : "/dev/pts/0";

        Assert.Equal([1, 2], JournalStream.JournalDescriptors("9:4242", Both));
        Assert.Equal([1], JournalStream.JournalDescriptors("9:4242", OnlyOutput));
        Assert.Empty(JournalStream.JournalDescriptors("9:4243", Both));
        Assert.Empty(JournalStream.JournalDescriptors(null, Both));
        Assert.Empty(JournalStream.JournalDescriptors("garbage", Both));
    }

    [LinuxFact]
    public async Task Open_FakeJournal_SendsTheStreamHeaderThenTheLines()
    {
        string path = Path.Combine(Path.GetTempPath(), $"graceful-journal-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);

            using (var stream = JournalStream.Open(path, "HelloGraceful"))
            {
                stream.Send("info line\n"u8.ToArray());
            }

            using var server = await listener.AcceptAsync();
            var received = new MemoryStream();
            var buffer = new byte[1024];
            int read;
            while ((read = await server.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            // identifier, unit id (none), priority 6, level prefixes parsed, no syslog, kmsg or console forwarding.
            Assert.Equal("HelloGraceful\n\n6\n1\n0\n0\n0\ninfo line\n", Encoding.UTF8.GetString(received.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
