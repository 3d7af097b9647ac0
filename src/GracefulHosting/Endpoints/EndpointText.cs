using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace GracefulHosting.Endpoints;

// The text is the endpoint's identity: one socket per text, which a child finds by the same text.
internal static class EndpointText
{
    private const string UnixPrefix = "unix:";
    private const string HandlePrefix = "fd:";

    // 127.0.0.1:8080, [::]:443, unix:/run/app.sock, fd:3; null for kinds that are not handed over (named pipes).
    public static string? Format(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => ip.ToString(),
        UnixDomainSocketEndPoint unix => UnixPrefix + unix,
        FileHandleEndPoint handle => HandlePrefix + handle.FileHandle.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    public static bool IsValid(string text) =>
        text.StartsWith(UnixPrefix, StringComparison.Ordinal) ? text.Length > UnixPrefix.Length
        : text.StartsWith(HandlePrefix, StringComparison.Ordinal) ? ulong.TryParse(text.AsSpan(HandlePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _)
        : IPEndPoint.TryParse(text, out _);

    public static EndPoint Parse(string text) =>
        text.StartsWith(UnixPrefix, StringComparison.Ordinal) ? new UnixDomainSocketEndPoint(text[UnixPrefix.Length..])
        : text.StartsWith(HandlePrefix, StringComparison.Ordinal)
            ? new FileHandleEndPoint(ulong.Parse(text.AsSpan(HandlePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture), FileHandleType.Auto)
        : IPEndPoint.Parse(text);

    // For logs: the socket's plain address when no URL matches.
    public static string FindUrl(IReadOnlyList<string> urls, EndPoint? local) =>
        Match(urls, local)?.Url ?? (local is null ? "?" : HttpUrl(local) ?? local.ToString() ?? "?");

    // The first of Matches.
    public static (string Url, BindingAddress Address)? Match(IEnumerable<string> urls, EndPoint? local)
    {
        foreach (var match in Matches(urls, local))
        {
            return match;
        }

        return null;
    }

    // A URL names the socket by its port and IP (an IPv4-mapped socket too), localhost for loopback, or the same Unix path.
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

    public static string? HttpUrl(EndPoint local) => local switch
    {
        IPEndPoint ip => "http://" + ip,
        UnixDomainSocketEndPoint unix => "http://unix:" + unix,
        _ => null,
    };
}
