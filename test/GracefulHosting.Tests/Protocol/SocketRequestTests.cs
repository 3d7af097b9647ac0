using GracefulHosting.Protocol;

namespace GracefulHosting.Tests.Protocol;

public class SocketRequestTests
{
    [Fact]
    public void Format_Request_DocumentedShape()
    {
        var request = new SocketRequest("127.0.0.1:8080", "Web", "Kestrel:Endpoints:Web:Url = 'http://127.0.0.1:8080'");

        Assert.Equal("LISTEN\t127.0.0.1:8080\tWeb\tKestrel:Endpoints:Web:Url = 'http://127.0.0.1:8080'", request.Format());
    }

    [Theory]
    [InlineData("127.0.0.1:8080", "Web", "Kestrel:Endpoints:Web:Url = 'http://127.0.0.1:8080'")]
    [InlineData("[::]:443", null, "urls = 'https://*:443'")]
    [InlineData("[fe80::1%2]:80", null, "an endpoint set in code")]
    [InlineData("unix:/tmp/a dir;with,odd%chars/app.sock", "Unix", "Kestrel:Endpoints:Unix:Url = 'http://unix:/tmp/a dir;with,odd%chars/app.sock'")]
    [InlineData("fd:3", null, "an endpoint set in code")]
    public void FormatThenParse_Request_RoundTrips(string endpoint, string? name, string setting)
    {
        var request = new SocketRequest(endpoint, name, setting);

        Assert.Equal(request, SocketRequest.Parse(request.Format()));
    }

    [Fact]
    public void Parse_TrailingNewline_Accepted()
    {
        Assert.Equal(new SocketRequest("127.0.0.1:1", null, "s"), SocketRequest.Parse("LISTEN\t127.0.0.1:1\t\ts\n"));
    }

    [Fact]
    public void Format_TabsAndNewlinesInFields_CannotSplitThePacket()
    {
        var request = new SocketRequest("unix:/tmp/a\tb\nc.sock", "We\tb", "urls = 'x\ty\r\nLISTEN\t127.0.0.1:1\t\ts'");

        string packet = request.Format();
        var parsed = SocketRequest.Parse(packet);

        Assert.Equal(4, packet.Split('\t').Length);
        Assert.DoesNotContain('\n', packet);
        Assert.DoesNotContain('\r', packet);
        Assert.NotNull(parsed);
        Assert.Equal("unix:/tmp/a b c.sock", parsed.Endpoint);
        Assert.Equal("We b", parsed.Name);
        Assert.Equal("urls = 'x y  LISTEN 127.0.0.1:1  s'", parsed.Setting);
    }

    [Theory]
    [InlineData("")]
    [InlineData("LISTEN")]
    [InlineData("LISTEN\t127.0.0.1:1")]
    [InlineData("LISTEN\t127.0.0.1:1\tWeb")]
    [InlineData("LISTEN\t127.0.0.1:1\tWeb\ts\textra")]
    [InlineData("listen\t127.0.0.1:1\tWeb\ts")]
    [InlineData("OK\t127.0.0.1:1\tWeb\ts")]
    [InlineData("LISTEN\tlocalhost:80\tWeb\ts")]
    [InlineData("LISTEN\t127.0.0.1:99999\tWeb\ts")]
    [InlineData("LISTEN\tunix:\tWeb\ts")]
    [InlineData("LISTEN\tfd:x\tWeb\ts")]
    [InlineData("LISTEN\t\tWeb\ts")]
    public void Parse_MalformedRequest_ReturnsNull(string packet)
    {
        Assert.Null(SocketRequest.Parse(packet));
    }

    [Fact]
    public void Format_Grant_OkWithEndpoint()
    {
        var reply = SocketReply.Grant("127.0.0.1:8080");

        Assert.True(reply.Granted);
        Assert.Equal("OK\t127.0.0.1:8080", reply.Format());
    }

    [Theory]
    [InlineData(true, "ERR\tinuse\tCannot listen on 127.0.0.1:1 for s: in use.")]
    [InlineData(false, "ERR\tother\tCannot listen on 127.0.0.1:1 for s: in use.")]
    public void Format_Refusal_ErrWithKindAndMessage(bool inUse, string expected)
    {
        var refusal = inUse ? SocketRefusal.InUse : SocketRefusal.Other;
        var reply = SocketReply.Refuse(refusal, "Cannot listen on 127.0.0.1:1 for s: in use.");

        Assert.False(reply.Granted);
        Assert.Equal(expected, reply.Format());
    }

    [Fact]
    public void FormatThenParse_Grant_RoundTrips()
    {
        var reply = SocketReply.Grant("unix:/run/app.sock");

        var parsed = SocketReply.Parse(reply.Format());

        Assert.Equal(reply, parsed);
        Assert.True(parsed!.Granted);
        Assert.Equal("unix:/run/app.sock", parsed.Endpoint);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FormatThenParse_Refusal_RoundTrips(bool inUse)
    {
        var refusal = inUse ? SocketRefusal.InUse : SocketRefusal.Other;
        var reply = SocketReply.Refuse(refusal, "Cannot listen on [::]:80 for urls = 'http://*:80': permission denied.");

        var parsed = SocketReply.Parse(reply.Format());

        Assert.Equal(reply, parsed);
        Assert.False(parsed!.Granted);
        Assert.Equal(refusal, parsed.Refusal);
        Assert.Null(parsed.Endpoint);
    }

    [Fact]
    public void Format_TabsAndNewlinesInError_CannotSplitTheReply()
    {
        var reply = SocketReply.Refuse(SocketRefusal.InUse, "line one\nOK\t127.0.0.1:1\r\nend");

        string packet = reply.Format();
        var parsed = SocketReply.Parse(packet);

        Assert.Equal(3, packet.Split('\t').Length);
        Assert.DoesNotContain('\n', packet);
        Assert.Equal(SocketRefusal.InUse, parsed!.Refusal);
        Assert.Equal("line one OK 127.0.0.1:1  end", parsed.Error);
    }

    [Fact]
    public void Format_TabInGrantedEndpoint_CannotSplitTheReply()
    {
        Assert.Equal("OK\tunix:/a b", SocketReply.Grant("unix:/a\tb").Format());
    }

    [Fact]
    public void Parse_ErrorWithTab_KeepsTheRestAsMessage()
    {
        Assert.Equal("a\tb", SocketReply.Parse("ERR\tother\ta\tb")!.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("OK")]
    [InlineData("OK\t127.0.0.1:1\textra")]
    [InlineData("ok\t127.0.0.1:1")]
    [InlineData("ERR")]
    [InlineData("ERR\tinuse")]
    [InlineData("ERR\tbusy\tmessage")]
    [InlineData("ERR\tINUSE\tmessage")]
    [InlineData("LISTEN\t127.0.0.1:1\t\ts")]
    [InlineData("READY=1")]
    public void Parse_MalformedReply_ReturnsNull(string packet)
    {
        Assert.Null(SocketReply.Parse(packet));
    }
}
