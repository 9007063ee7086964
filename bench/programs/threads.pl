# The multi-threaded workload: two Perl interpreter threads (ithreads), each
# filling and dropping hashes of small arrays and strings, so both threads
# call malloc and free about 600,000 times. Perl takes its memory from the C
# library's malloc on Debian. Run with PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
# so every run makes the same allocations.
use strict;
use warnings;
use threads;

my $keys = shift // 40_000;

sub fill_and_drop {
  my ($id) = @_;
  my $seen = 0;
  for my $round (1 .. 4) {
    my %table;
    $table{"k$id-$round-$_"} = [$_, 'v' x ($_ % 40)] for 1 .. $keys;
    $seen += keys %table;
  }
  return $seen;
}

my @workers = map { threads->create(\&fill_and_drop, $_) } 1 .. 2;
my $total = 0;
$total += $_->join for @workers;
print "$total\n";
