using GracefulHosting.Child;

namespace GracefulHosting.Tests.Child;

public class ChildMarkerTests
{
    [Fact]
    public void VariableName_Always_GracefulHostingChild()
    {
        Assert.Equal("GRACEFULHOSTING_CHILD", ChildMarker.VariableName);
    }

    [Fact]
    public void Format_SeveralListeners_DocumentedShape()
    {
        var marker = new ChildMarker(2, 9,
        [
            new InheritedListener(5, "127.0.0.1:8080"),
            new InheritedListener(6, "[::1]:8080"),
            new InheritedListener(7, "unix:/run/app.sock"),
        ]);

        Assert.Equal("generation=2;control=9;listen=5@127.0.0.1:8080,6@[::1]:8080,7@unix:/run/app.sock", marker.Format());
    }

    [Fact]
    public void Parse_DocumentedExample_AllFields()
    {
        var marker = ChildMarker.Parse("generation=2;control=9;listen=5@127.0.0.1:8080,6@[::1]:8080,7@unix:/run/app.sock");

        Assert.Equal(2, marker.Generation);
        Assert.Equal(9, marker.ControlFd);
        Assert.Equal([(5, "127.0.0.1:8080"), (6, "[::1]:8080"), (7, "unix:/run/app.sock")], marker.Listeners.Select(l => (l.Fd, l.Endpoint)));
        Assert.Empty(marker.HostingUrls);
    }

    [Fact]
    public void FormatThenParse_EveryKindOfEndpoint_RoundTrips()
    {
        var original = new ChildMarker(123456, 3,
        [
            new InheritedListener(4, "[::1]:5000"),
            new InheritedListener(5, "127.0.0.1:5000"),
            new InheritedListener(7, "[2001:db8::42]:65535"),
            new InheritedListener(8, "[fe80::1%2]:80"),
            new InheritedListener(9, "unix:/tmp/a dir,with;odd%chars/app.sock"),
            new InheritedListener(10, "fd:10"),
            new InheritedListener(1000, "0.0.0.0:0"),
        ])
        { HostingUrls = ["http://127.0.0.1:8080", "http://unix:/run/a,b;c.sock"] };

        var parsed = ChildMarker.Parse(original.Format());

        Assert.Equal(original.Generation, parsed.Generation);
        Assert.Equal(original.ControlFd, parsed.ControlFd);
        Assert.Equal(original.Listeners, parsed.Listeners);
        Assert.Equal(original.HostingUrls, parsed.HostingUrls);
        Assert.Equal(original.Format(), parsed.Format());
    }

    [Fact]
    public void Format_SeparatorsInPath_PercentEncoded()
    {
        var marker = new ChildMarker(1, 3, [new InheritedListener(4, "unix:/run/a,b;c%d.sock")]);

        Assert.Equal("generation=1;control=3;listen=4@unix:/run/a%2Cb%3Bc%25d.sock", marker.Format());
    }

    [Fact]
    public void Format_HostingUrls_AfterListen()
    {
        var marker = new ChildMarker(1, 3, [new InheritedListener(4, "127.0.0.1:8080")]) { HostingUrls = ["http://127.0.0.1:8080"] };

        Assert.Equal("generation=1;control=3;listen=4@127.0.0.1:8080;urls=http://127.0.0.1:8080", marker.Format());
    }

    [Theory]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1;urls=")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1;urls=http://127.0.0.1:1,")]
    public void Parse_EmptyUrl_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "urls has an empty entry");
    }

    [Fact]
    public void Parse_KeysInAnyOrderWithSpaces_Accepted()
    {
        var marker = ChildMarker.Parse(" listen=4@127.0.0.1:1 ; control=3 ; generation=1 ");

        Assert.Equal(1, marker.Generation);
        Assert.Equal(3, marker.ControlFd);
        Assert.Equal(4, Assert.Single(marker.Listeners).Fd);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("=1;control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1;")]
    [InlineData("generation=1;;control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=1,control=3,listen=4@127.0.0.1:1")]
    public void Parse_NotKeyValuePairs_ThrowsNamingVariable(string value)
    {
        AssertBad(value);
    }

    [Theory]
    [InlineData("control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=1;listen=4@127.0.0.1:1")]
    [InlineData("generation=1;control=3")]
    public void Parse_MissingKey_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "generation, control and listen");
    }

    [Theory]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1;extra=1")]
    [InlineData("Generation=1;control=3;listen=4@127.0.0.1:1")]
    public void Parse_UnknownKey_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "unknown key");
    }

    [Theory]
    [InlineData("generation=1;control=3;listen=0@127.0.0.1:1")]
    [InlineData("generation=1;control=3;listen=1@127.0.0.1:1")]
    [InlineData("generation=1;control=3;listen=2@127.0.0.1:1")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1,2@127.0.0.1:2")]
    public void Parse_ListenFdBelowThree_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "at least 3");
    }

    [Theory]
    [InlineData("generation=1;control=0;listen=4@127.0.0.1:1")]
    [InlineData("generation=1;control=2;listen=4@127.0.0.1:1")]
    public void Parse_ControlFdBelowThree_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "at least 3");
    }

    [Theory]
    [InlineData("generation=1;control=3;listen=3@127.0.0.1:1")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1,4@127.0.0.1:2")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1,5@127.0.0.1:2,5@[::1]:2")]
    public void Parse_DescriptorNamedTwice_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "named twice");
    }

    [Theory]
    [InlineData("generation=1;control=3;listen=4@localhost:80")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:99999")]
    [InlineData("generation=1;control=3;listen=4@")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1|[::1]:1")]
    [InlineData("generation=1;control=3;listen=4@[::1:1")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1,")]
    [InlineData("generation=1;control=3;listen=4@unix:")]
    [InlineData("generation=1;control=3;listen=4@fd:x")]
    [InlineData("generation=1;control=3;listen=4!http")]
    public void Parse_BadEndpoint_ThrowsNamingVariable(string value)
    {
        AssertBad(value);
    }

    [Theory]
    [InlineData("generation=1;control=3;listen=")]
    [InlineData("generation=1;control=3;listen=4")]
    [InlineData("generation=1;control=3;listen=@127.0.0.1:1")]
    public void Parse_EmptyOrShapelessListen_ThrowsNamingVariable(string value)
    {
        AssertBad(value);
    }

    [Theory]
    [InlineData("generation=-1;control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=0;control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=;control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=one;control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=+1;control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=99999999999;control=3;listen=4@127.0.0.1:1")]
    [InlineData("generation=1;control=-3;listen=4@127.0.0.1:1")]
    [InlineData("generation=1;control=x;listen=4@127.0.0.1:1")]
    [InlineData("generation=1;control=3;listen=-4@127.0.0.1:1")]
    [InlineData("generation=1;control=3;listen= 4@127.0.0.1:1")]
    public void Parse_BadNumber_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "is not a number");
    }

    [Fact]
    public void Parse_Invalid_MessageQuotesValueAndWarnsAgainstSettingIt()
    {
        var e = Assert.Throws<FormatException>(() => ChildMarker.Parse("generation=1;control=3"));

        Assert.Contains("GRACEFULHOSTING_CHILD='generation=1;control=3'", e.Message, StringComparison.Ordinal);
        Assert.Contains("do not set it by hand", e.Message, StringComparison.Ordinal);
    }

    private static void AssertBad(string value, string? reason = null)
    {
        var e = Assert.Throws<FormatException>(() => ChildMarker.Parse(value));
        Assert.Contains("GRACEFULHOSTING_CHILD", e.Message, StringComparison.Ordinal);
        if (reason is not null)
        {
            Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        }
    }
}
