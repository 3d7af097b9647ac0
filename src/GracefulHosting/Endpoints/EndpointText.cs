using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace GracefulHosting.Endpoints;

/// <summary>
/// The text of an endpoint Kestrel asks its transport to bind, which is also its identity: the master
/// binds one socket per endpoint Kestrel asks for, and a child finds the socket by the same text.
/// <c>127.0.0.1:8080</c> and <c>[::]:443</c> for TCP, <c>unix:/run/app.sock</c> for a Unix domain
/// socket, <c>fd:3</c> for a descriptor given to <c>ListenHandle</c>.
/// </summary>
internal static class EndpointText
{
    private const string UnixPrefix = "unix:";
    private const string HandlePrefix = "fd:";

    /// <summary>The text of <paramref name="endpoint"/>, or null for kinds of endpoint that are not handed over (named pipes).</summary>
    public static string? Format(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => ip.ToString(),
        UnixDomainSocketEndPoint unix => UnixPrefix + unix,
        FileHandleEndPoint handle => HandlePrefix + handle.FileHandle.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    /// <summary>True when <paramref name="text"/> has the shape <see cref="Format"/> produces.</summary>
    public static bool IsValid(string text) =>
        text.StartsWith(UnixPrefix, StringComparison.Ordinal) ? text.Length > UnixPrefix.Length
        : text.StartsWith(HandlePrefix, StringComparison.Ordinal) ? ulong.TryParse(text.AsSpan(HandlePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _)
        : IPEndPoint.TryParse(text, out _);

    /// <summary>The endpoint <paramref name="text"/> names, which must be valid (<see cref="IsValid"/>).</summary>
    public static EndPoint Parse(string text) =>
        text.StartsWith(UnixPrefix, StringComparison.Ordinal) ? new UnixDomainSocketEndPoint(text[UnixPrefix.Length..])
        : text.StartsWith(HandlePrefix, StringComparison.Ordinal)
            ? new FileHandleEndPoint(ulong.Parse(text.AsSpan(HandlePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture), FileHandleType.Auto)
        : IPEndPoint.Parse(text);

    /// <summary>
    /// The URL among those Kestrel reports (<paramref name="urls"/>) that the socket bound to
    /// <paramref name="local"/> serves, for logs; its plain address when none matches.
    /// </summary>
    public static string FindUrl(IReadOnlyList<string> urls, EndPoint? local) =>
        Match(urls, local)?.Url ?? (local is null ? "?" : HttpUrl(local) ?? local.ToString() ?? "?");

    /// <summary>
    /// The URL among those Kestrel reports (<paramref name="urls"/>) that names the socket bound to
    /// <paramref name="local"/>, parsed as Kestrel parses it, or null when none does (the first of
    /// <see cref="Matches"/>).
    /// </summary>
    public static (string Url, BindingAddress Address)? Match(IEnumerable<string> urls, EndPoint? local)
    {
        foreach (var match in Matches(urls, local))
        {
            return match;
        }

        return null;
    }

    /// <summary>
    /// Each URL among those Kestrel reports (<paramref name="urls"/>) that names the socket bound to
    /// <paramref name="local"/>, parsed as Kestrel parses it. A URL names the socket when it has the
    /// socket's port and IP address (an IPv4-mapped IPv6 socket included), or <c>localhost</c> for a
    /// loopback socket, or the same Unix domain socket path.
    /// </summary>
    public static IEnumerable<(string Url, BindingAddress Address)> Matches(IEnumerable<string> urls, EndPoint? local)
    {
        foreach (string url in urls)
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                continue;
            }

            bool matches = local switch
            {
                UnixDomainSocketEndPoint unix => address.IsUnixPipe && address.UnixPipePath == unix.ToString(),
                IPEndPoint ip => !address.IsUnixPipe && address.Port == ip.Port &&
                    (IPAddress.TryParse(address.Host, out var host)
                        ? host.Equals(ip.Address) || (ip.Address.IsIPv4MappedToIPv6 && host.Equals(ip.Address.MapToIPv4()))
                        : string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase) && IPAddress.IsLoopback(ip.Address)),
                _ => false,
            };
            if (matches)
            {
                yield return (url, address);
            }
        }
    }

    /// <summary>The URL a plain HTTP endpoint on the socket bound to <paramref name="local"/> has, as Kestrel parses URLs.</summary>
    public static string? HttpUrl(EndPoint local) => local switch
    {
        IPEndPoint ip => "http://" + ip,
        UnixDomainSocketEndPoint unix => "http://unix:" + unix,
        _ => null,
    };
}
