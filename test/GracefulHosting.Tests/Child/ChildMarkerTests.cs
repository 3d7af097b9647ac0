using System.Net;
using GracefulHosting.Child;

namespace GracefulHosting.Tests.Child;

public class ChildMarkerTests
{
    private static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);

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
            new InheritedListener(5, [Ep("127.0.0.1:8080")]),
            new InheritedListener(6, [Ep("[::]:443"), Ep("0.0.0.0:443")]),
        ]);

        Assert.Equal("generation=2;control=9;listen=5@127.0.0.1:8080,6@[::]:443|0.0.0.0:443", marker.Format());
    }

    [Fact]
    public void Parse_DocumentedExample_AllFields()
    {
        var marker = ChildMarker.Parse("generation=2;control=9;listen=5@127.0.0.1:8080,6@[::]:443|0.0.0.0:443");

        Assert.Equal(2, marker.Generation);
        Assert.Equal(9, marker.ControlFd);
        Assert.Equal(2, marker.Listeners.Count);
        Assert.Equal(5, marker.Listeners[0].Fd);
        Assert.Equal([Ep("127.0.0.1:8080")], marker.Listeners[0].Addresses);
        Assert.Equal(6, marker.Listeners[1].Fd);
        Assert.Equal([new IPEndPoint(IPAddress.IPv6Any, 443), new IPEndPoint(IPAddress.Any, 443)], marker.Listeners[1].Addresses);
    }

    [Fact]
    public void FormatThenParse_IPv6AndAliases_RoundTrips()
    {
        var original = new ChildMarker(123456, 3,
        [
            new InheritedListener(4, [Ep("[::1]:5000"), Ep("127.0.0.1:5000")]),
            new InheritedListener(7, [Ep("[2001:db8::42]:65535")]),
            new InheritedListener(8, [Ep("[fe80::1%2]:80"), Ep("10.0.0.1:80"), Ep("[::]:80")]),
            new InheritedListener(1000, [Ep("0.0.0.0:0")]),
        ]);

        var parsed = ChildMarker.Parse(original.Format());

        Assert.Equal(original.Generation, parsed.Generation);
        Assert.Equal(original.ControlFd, parsed.ControlFd);
        Assert.Equal(original.Listeners.Count, parsed.Listeners.Count);
        for (int i = 0; i < original.Listeners.Count; i++)
        {
            Assert.Equal(original.Listeners[i].Fd, parsed.Listeners[i].Fd);
            Assert.Equal(original.Listeners[i].Addresses, parsed.Listeners[i].Addresses);
        }

        Assert.Equal(original.Format(), parsed.Format());
    }

    [Fact]
    public void Format_ExtraListener_SchemeAfterBang()
    {
        var marker = new ChildMarker(4, 3,
        [
            new InheritedListener(5, [Ep("127.0.0.1:8080")]),
            new InheritedListener(7, [], "https"),
        ]);

        Assert.Equal("generation=4;control=3;listen=5@127.0.0.1:8080,7!https", marker.Format());
    }

    [Theory]
    [InlineData("http")]
    [InlineData("https")]
    public void Parse_ExtraListener_SchemeAndNoAddresses(string scheme)
    {
        var marker = ChildMarker.Parse($"generation=1;control=3;listen=4@127.0.0.1:80,9!{scheme}");

        Assert.Null(marker.Listeners[0].ExtraScheme);
        Assert.Equal(9, marker.Listeners[1].Fd);
        Assert.Equal(scheme, marker.Listeners[1].ExtraScheme);
        Assert.Empty(marker.Listeners[1].Addresses);
    }

    [Fact]
    public void FormatThenParse_OnlyExtraListeners_RoundTrips()
    {
        var original = new ChildMarker(2, 3, [new InheritedListener(4, [], "http"), new InheritedListener(5, [], "https")]);

        var parsed = ChildMarker.Parse(original.Format());

        Assert.Equal([(4, "http"), (5, "https")], parsed.Listeners.Select(l => (l.Fd, l.ExtraScheme)));
        Assert.All(parsed.Listeners, l => Assert.Empty(l.Addresses));
    }

    [Theory]
    [InlineData("generation=1;control=3;listen=7!ftp")]
    [InlineData("generation=1;control=3;listen=7!")]
    [InlineData("generation=1;control=3;listen=7!http|https")]
    [InlineData("generation=1;control=3;listen=7!http@127.0.0.1:1")]
    public void Parse_ExtraListenerWithBadScheme_ThrowsNamingVariable(string value)
    {
        AssertBad(value, "!http or !https");
    }

    [Theory]
    [InlineData("generation=1;control=3;listen=2!http", "at least 3")]
    [InlineData("generation=1;control=3;listen=x!http", "is not a number")]
    [InlineData("generation=1;control=3;listen=!http", null)]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1,4!http", "named twice")]
    [InlineData("generation=1;control=3;listen=3!https", "named twice")]
    public void Parse_ExtraListenerWithBadFd_ThrowsNamingVariable(string value, string? reason)
    {
        AssertBad(value, reason);
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
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1|")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1||[::1]:1")]
    [InlineData("generation=1;control=3;listen=4@[::1:1")]
    [InlineData("generation=1;control=3;listen=4@127.0.0.1:1,")]
    public void Parse_BadAddress_ThrowsNamingVariable(string value)
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
