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
    public void Format_GenerationAndControl_DocumentedShape()
    {
        Assert.Equal("generation=2;control=9", new ChildMarker(2, 9).Format());
    }

    [Fact]
    public void Parse_DocumentedExample_AllFields()
    {
        var marker = ChildMarker.Parse("generation=2;control=9");

        Assert.Equal(2, marker.Generation);
        Assert.Equal(9, marker.ControlFd);
        Assert.Empty(marker.HostingUrls);
    }

    [Fact]
    public void FormatThenParse_WithHostingUrls_RoundTrips()
    {
        var original = new ChildMarker(123456, 3) { HostingUrls = ["http://127.0.0.1:8080", "http://[::1]:80", "http://unix:/tmp/a dir,with;odd%chars/app.sock"] };

        var parsed = ChildMarker.Parse(original.Format());

        Assert.Equal(original.Generation, parsed.Generation);
        Assert.Equal(original.ControlFd, parsed.ControlFd);
        Assert.Equal(original.HostingUrls, parsed.HostingUrls);
        Assert.Equal(original.Format(), parsed.Format());
    }

    [Fact]
    public void Format_HostingUrls_AfterControl()
    {
        var marker = new ChildMarker(1, 3) { HostingUrls = ["http://127.0.0.1:8080", "http://unix:/run/app.sock"] };

        Assert.Equal("generation=1;control=3;urls=http://127.0.0.1:8080,http://unix:/run/app.sock", marker.Format());
    }

    [Fact]
    public void Format_SeparatorsInUrl_PercentEncoded()
    {
        var marker = new ChildMarker(1, 3) { HostingUrls = ["http://unix:/run/a,b;c%d.sock"] };

        Assert.Equal("generation=1;control=3;urls=http://unix:/run/a%2Cb%3Bc%25d.sock", marker.Format());
    }

    [Theory]
    [InlineData("generation=1;control=3;urls=")]
    [InlineData("generation=1;control=3;urls=http://127.0.0.1:1,")]
    [InlineData("generation=1;control=3;urls=,http://127.0.0.1:1")]
    public void Parse_EmptyUrl_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "urls has an empty entry");
    }

    [Fact]
    public void Parse_KeysInAnyOrderWithSpaces_Accepted()
    {
        var marker = ChildMarker.Parse(" urls=http://127.0.0.1:1 ; control=3 ; generation=1 ");

        Assert.Equal(1, marker.Generation);
        Assert.Equal(3, marker.ControlFd);
        Assert.Equal(["http://127.0.0.1:1"], marker.HostingUrls);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("=1;control=3")]
    [InlineData("generation=1;control=3;")]
    [InlineData("generation=1;;control=3")]
    [InlineData("generation=1,control=3")]
    public void Parse_NotKeyValuePairs_ThrowsNamingVariable(string value)
    {
        AssertBad(value);
    }

    [Theory]
    [InlineData("control=3")]
    [InlineData("generation=1")]
    [InlineData("generation=1;urls=http://127.0.0.1:1")]
    public void Parse_MissingKey_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "it must name generation and control");
    }

    [Theory]
    [InlineData("generation=1;control=3;extra=1")]
    [InlineData("Generation=1;control=3")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1")]
    public void Parse_UnknownKey_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "unknown key");
    }

    [Theory]
    [InlineData("generation=1;control=0")]
    [InlineData("generation=1;control=1")]
    [InlineData("generation=1;control=2")]
    public void Parse_ControlFdBelowThree_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "at least 3");
    }

    [Theory]
    [InlineData("generation=-1;control=3")]
    [InlineData("generation=0;control=3")]
    [InlineData("generation=;control=3")]
    [InlineData("generation=one;control=3")]
    [InlineData("generation=+1;control=3")]
    [InlineData("generation=99999999999;control=3")]
    [InlineData("generation=1;control=-3")]
    [InlineData("generation=1;control=x")]
    [InlineData("generation=1;control=")]
    [InlineData("generation=1;control=3 4")]
    public void Parse_BadNumber_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "is not a number");
    }

    [Fact]
    public void Parse_Invalid_MessageQuotesValueAndWarnsAgainstSettingIt()
    {
        var e = Assert.Throws<FormatException>(() => ChildMarker.Parse("generation=1"));

        Assert.Contains("GRACEFULHOSTING_CHILD='generation=1'", e.Message, StringComparison.Ordinal);
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
