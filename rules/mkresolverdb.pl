#!/usr/bin/perl
# iotdns - compile rules/resolvers.txt into a MaxMind DB file.
#
# Usage: perl rules/mkresolverdb.pl rules/resolvers.txt OUTPUT.mmdb
#
# The format of the input is described at the top of resolvers.txt. Every
# data record of the output is a map:
#   operator  utf8_string   section name, e.g. "Google Public DNS"
#   service   utf8_string   variant ("" when not given)
#   dot       utf8_string   DoT authentication name ("" when none)
#   doh       utf8_string   DoH URI template ("" when none)
#   source    utf8_string   where the facts come from
# The tree is IPv6 (record size 28) with IPv4 aliased into ::/96, database
# type "iotdns-resolvers" (src/enrich/enrich.c checks it).
#
# Any malformed line stops the build with "file:line: message" and a
# non-zero exit status; the output is written to a temporary file first and
# renamed, so a failed run never leaves a half-written database behind.
use strict;
use warnings;

use Encode qw(decode encode FB_CROAK);
use MaxMind::DB::Writer::Tree;
use Socket qw(inet_pton inet_ntop AF_INET AF_INET6);

my %field_types = (
	operator => 'utf8_string',
	service  => 'utf8_string',
	dot      => 'utf8_string',
	doh      => 'utf8_string',
	source   => 'utf8_string',
);
my %single_keys = map { $_ => 1 } qw(service dot doh source);

die "usage: $0 resolvers.txt OUTPUT.mmdb\n" unless @ARGV == 2;
my ($in, $out) = @ARGV;

my @entries;          # { operator, service, dot, doh, source, addrs => [[net, line]], line }
my %seen_net;         # normalised network -> "file:line" of its first use
my $cur;

sub fail { my ($line, $msg) = @_; print STDERR "$in:$line: $msg\n"; exit 1; }

# Returns the normalised "address/len" or dies with a message.
sub parse_net {
	my ($text, $line) = @_;
	my ($ip, $len) = $text =~ m{^([^/]+)(?:/(\d{1,3}))?$}
		or fail($line, "invalid address or prefix '$text'");
	my ($family, $max);
	my $bin;
	if ($ip =~ /:/) {
		$bin = inet_pton(AF_INET6, $ip);
		($family, $max) = (AF_INET6, 128);
	} else {
		# inet_pton(AF_INET) accepts only dotted quads: no "1.2.3", no octal
		$bin = inet_pton(AF_INET, $ip) if $ip =~ /^\d{1,3}(?:\.\d{1,3}){3}$/;
		($family, $max) = (AF_INET, 32);
	}
	fail($line, "invalid IP address '$ip'") unless defined $bin;
	$len = $max unless defined $len;
	fail($line, "prefix length /$len out of range for '$ip' (0..$max)") if $len > $max;
	fail($line, "prefix /$len is too wide for a resolver ('$text')")
		if $len < ($family == AF_INET ? 8 : 16);
	# host bits must be zero, so that the text says what is stored
	my $bits = unpack('B*', $bin);
	fail($line, "'$text' has host bits set (network is not aligned to /$len)")
		if substr($bits, $len) =~ /1/;
	return inet_ntop($family, $bin) . "/$len";
}

sub finish_entry {
	return unless $cur;
	fail($cur->{line}, "section [$cur->{operator}] has no addresses") unless @{ $cur->{addrs} };
	fail($cur->{line}, "section [$cur->{operator}] has no source") unless defined $cur->{source};
	push @entries, $cur;
	$cur = undef;
}

open(my $fh, '<:raw', $in) or die "$in: cannot open: $!\n";
while (my $bytes = <$fh>) {
	my $line = $.;
	my $raw = eval { decode('UTF-8', $bytes, FB_CROAK) };
	fail($line, "not valid UTF-8") unless defined $raw;
	$raw =~ s/\r?\n\z//;
	next if $raw =~ /^\s*(#|$)/;
	fail($line, "control character in line") if $raw =~ /[\x00-\x08\x0b-\x1f\x7f]/;
	if ($raw =~ /^\s*\[(.*)\]\s*$/) {
		my $name = $1;
		$name =~ s/^\s+|\s+$//g;
		fail($line, "empty operator name") if $name eq '';
		# iotdns copies it into a 64-byte field (struct iotdns_addr_info)
		fail($line, "operator name longer than 63 bytes") if length(encode('UTF-8', $name)) > 63;
		finish_entry();
		$cur = { operator => $name, addrs => [], line => $line };
		next;
	}
	my ($key, $value) = $raw =~ /^\s*([a-z]+)\s*=\s*(.*?)\s*$/
		or fail($line, "expected '[operator]' or 'key = value'");
	fail($line, "'$key' outside of a [section]") unless $cur;
	fail($line, "empty value for '$key'") if $value eq '';
	if ($key eq 'addresses') {
		for my $t (split /[\s,]+/, $value) {
			next if $t eq '';
			my $net = parse_net($t, $line);
			fail($line, "$net is already listed at $in:$seen_net{$net}") if $seen_net{$net};
			$seen_net{$net} = $line;
			push @{ $cur->{addrs} }, [ $net, $line ];
		}
	} elsif ($single_keys{$key}) {
		fail($line, "'$key' given twice in section [$cur->{operator}]") if defined $cur->{$key};
		if ($key eq 'doh') {
			fail($line, "doh must be an https:// URI template") unless $value =~ m{^https://[A-Za-z0-9.-]+(?::\d+)?(?:/[\x21-\x7e]*)?$};
			fail($line, "doh longer than 255 bytes") if length($value) > 255;
		} elsif ($key eq 'dot') {
			fail($line, "dot must be a host name or address") unless $value =~ /^[A-Za-z0-9.:-]+$/;
			fail($line, "dot longer than 127 bytes") if length($value) > 127;
		}
		$cur->{$key} = $value;
	} else {
		fail($line, "unknown key '$key' (expected addresses, service, dot, doh, source)");
	}
}
close($fh);
finish_entry();
die "$in: no resolvers defined\n" unless @entries;

my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version            => 6,
	record_size           => 28,
	database_type         => 'iotdns-resolvers',
	languages             => ['en'],
	description           => { en => 'iotdns: well-known public DNS resolvers (rules/resolvers.txt)' },
	alias_ipv6_to_ipv4    => 1,
	# store exactly what the file lists (the default would silently drop
	# entries in reserved ranges)
	remove_reserved_networks => 0,
	map_key_type_callback => sub { $field_types{ $_[0] } },
);

# Wider prefixes first, so that a more specific entry inside one wins.
my @inserts;
for my $e (@entries) {
	my %rec = (
		operator => $e->{operator},
		service  => $e->{service} // '',
		dot      => $e->{dot} // '',
		doh      => $e->{doh} // '',
		source   => $e->{source},
	);
	push @inserts, [ $_->[0], \%rec, $_->[1] ] for @{ $e->{addrs} };
}
for my $ins (sort { ($a->[0] =~ m{/(\d+)$})[0] <=> ($b->[0] =~ m{/(\d+)$})[0] } @inserts) {
	my ($net, $rec, $line) = @$ins;
	eval { $tree->insert_network($net, $rec); 1 } or do {
		my $err = $@;
		$err =~ s/\s+at \S+ line \d+.*//s;
		fail($line, "cannot insert $net: $err");
	};
}

my $tmp = "$out.tmp.$$";
open(my $ofh, '>:raw', $tmp) or die "$tmp: cannot create: $!\n";
$tree->write_tree($ofh);
close($ofh) or die "$tmp: write error: $!\n";
rename($tmp, $out) or do { unlink $tmp; die "$out: cannot rename: $!\n"; };
exit 0;
