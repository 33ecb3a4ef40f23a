/**
 * The process launcher (see process-launcher.ts): a small Perl program that forks the
 * processes atcad's commands run in, and relays what happens to them. It decides nothing —
 * timeouts, killing, output limits and errors are the Node side's — so that it stays small.
 *
 * It keeps a few processes forked ahead of need ("spares"), each already in its own process
 * group with stdin /dev/null and its output piped, blocked reading its control pipe. atcad
 * opens that pipe itself (/proc/<launcher>/fd/<n>: the same pipe, no descriptor passing) and
 * hands a command to a spare with one write; the spare sets the command's environment and
 * execs it, no shell. So neither a fork nor the launcher is between a trap and its command:
 * the launcher forks the next spare afterwards, and a fork here (up to several ms on a virtual
 * machine, even for this small process) delays only the relaying. Without spares, or if /proc
 * cannot be opened, atcad asks with R and the launcher forks on demand.
 *
 * Why Perl: perl-base is Essential in Debian, and forking a 5 MB interpreter is far cheaper
 * than forking atcad (docs/benchmarks.md). Only core modules; Time::HiRes (package perl) gives
 * times, and without it the Node side uses its own.
 *
 * The message a spare reads: <hex of argv joined by NUL> <hex of "k=v" joined by NUL>\n
 * In, on stdin, one line:     R <id> <that message's two fields>          fork one and hand it this
 * Out, one line per event, <n> being the process's serial (pids are reused, serials not):
 *                             P <n> <pid> <launcher pid> <fd> <inode>      a spare, its control pipe
 *                             S <id> <n> <pid> <epoch ms or ->             R's process has the command
 *                             X <n> <epoch ms or ->                        exec seen done
 *                             F <n> <errno>                                exec failed
 *                             N <id> <errno>                               R: fork failed
 *                             O <n> <1|2> <hex>                            output
 *                             E <n> <exit code or -> <signal number or ->
 *                             C <n>                                        stdout and stderr closed
 * End of input ends the launcher and, as their control pipes close, its spares; commands under
 * way run on in their own process groups.
 */
export const LAUNCHER_SCRIPT = String.raw`
use strict;
use warnings;
use POSIX ();
use IO::Select;

$0 = 'atcad-launcher';
my $SPARES = 2;
my $hires = eval { require Time::HiRes; 1 };
my $sel = IO::Select->new(\*STDIN);
my (%fds, %kids);
# Each process gets a serial: messages name it by that, never by a pid that may be reused.
my $serial = 0;
my $in = '';
# A handler (not the default, ignore) so that select() returns when a child ends.
$SIG{CHLD} = sub { };
$SIG{PIPE} = 'IGNORE';

sub now_ms { $hires ? sprintf('%.3f', Time::HiRes::time() * 1000) : '-' }

sub write_all {
  my ($fh, $m) = @_;
  my $off = 0;
  while ($off < length $m) {
    my $n = syswrite($fh, $m, length($m) - $off, $off);
    if (!defined $n) { next if $! == POSIX::EINTR; return 0; }
    $off += $n;
  }
  return 1;
}

# atcad gone: so are we.
sub out { write_all(\*STDOUT, $_[0]) or exit 0; }

# In a new child: every descriptor but its own closed (the launcher's, other commands'), so
# that no pipe is held open by a process it does not belong to.
sub only_fds {
  my %keep = map { $_ => 1 } 0, 1, 2, @_;
  opendir(my $d, '/proc/self/fd') or return;
  my @all = grep { /^\d+$/ } readdir $d;
  closedir $d;
  POSIX::close($_) for grep { !$keep{$_} } @all;
}

sub child {
  my ($cr, $ow, $ew, $xw, @theirs) = @_;
  POSIX::setpgid(0, 0);
  $SIG{CHLD} = 'DEFAULT';
  $SIG{PIPE} = 'DEFAULT';
  open(STDIN, '<', '/dev/null');
  open(STDOUT, '>&', $ow);
  open(STDERR, '>&', $ew);
  # The launcher's ends of this process's pipes and of every other process's; then, where
  # /proc allows, anything else left open.
  close $_ for @theirs, map { grep { defined } @$_{qw(out err exec ctl)} } values %kids;
  only_fds(fileno $cr, fileno $xw);
  my $m = '';
  while ($m !~ /\n/) {
    my $n = sysread($cr, $m, 65536, length $m);
    next if !defined $n && $! == POSIX::EINTR;
    POSIX::_exit(0) unless $n;
  }
  my ($argvhex, $envhex) = split / /, (split /\n/, $m)[0], -1;
  my @argv = split /\0/, pack('H*', $argvhex // ''), -1;
  POSIX::_exit(0) unless @argv;
  %ENV = ();
  for (split /\0/, pack('H*', $envhex // ''), -1) {
    my ($k, $v) = split /=/, $_, 2;
    $ENV{$k} = $v if defined $v;
  }
  { no warnings; exec { $argv[0] } @argv; }
  syswrite($xw, ($! + 0) . '');
  POSIX::_exit(127);
}

# A process waiting for its command. Pipes above fd 2 are close-on-exec.
sub fork_child {
  my ($or, $ow, $er, $ew, $xr, $xw, $cr, $cw);
  pipe($or, $ow) && pipe($er, $ew) && pipe($xr, $xw) && pipe($cr, $cw) or return;
  my $pid = fork;
  return unless defined $pid;
  child($cr, $ow, $ew, $xw, $or, $er, $xr, $cw) if $pid == 0;
  # Also here, so the group exists before anyone is told the pid and might signal it.
  POSIX::setpgid($pid, $pid);
  close $ow; close $ew; close $xw; close $cr;
  my $k = { n => ++$serial, pid => $pid, open => 2, exec => $xr, ctl => $cw };
  $kids{$pid} = $k;
  for ([$xr, 'x'], [$or, 1], [$er, 2]) {
    $fds{fileno $_->[0]} = [$k, $_->[1], $_->[0]];
    $sel->add($_->[0]);
  }
  return $k;
}

sub spare {
  my $k = fork_child() or return;
  $k->{spare} = 1;
  # The pipe's inode lets atcad check that what it opens through /proc is this pipe.
  out("P $k->{n} $k->{pid} $$ " . fileno($k->{ctl}) . ' ' . (stat $k->{ctl})[1] . "\n");
}

sub launch {
  my ($id, $argvhex, $envhex) = @_;
  my $k = fork_child();
  unless ($k) { out("N $id " . ($! + 0) . "\n"); return; }
  out("S $id $k->{n} $k->{pid} " . now_ms() . "\n");
  write_all($k->{ctl}, "$argvhex $envhex\n");
  close delete $k->{ctl};
}

sub drop {
  my ($fh) = @_;
  $sel->remove($fh);
  delete $fds{fileno $fh};
  close $fh;
}

# The exec pipe says whether exec worked: EOF alone (close-on-exec) is success. From then on
# the launcher's end of the control pipe is not needed (nor is it, for a spare, a spare).
sub exec_result {
  my ($k) = @_;
  my $xr = delete $k->{exec} or return;
  my ($n, $errno);
  do { $n = sysread($xr, my $e, 64); $errno .= $e if $n; } while ($n || (!defined $n && $! == POSIX::EINTR));
  drop($xr);
  close delete $k->{ctl} if $k->{ctl};
  $k->{spare} = 0;
  out(defined $errno ? "F $k->{n} $errno\n" : "X $k->{n} " . now_ms() . "\n");
}

sub forget {
  my ($k) = @_;
  # Only its own entry: once reaped, its pid may already belong to a newer process.
  delete $kids{$k->{pid}} if $k->{ended} && $k->{open} == 0 && ($kids{$k->{pid}} // 0) == $k;
}

while (1) {
  # Refill: a spare handed a command is replaced once its exec is seen.
  spare() for 1 .. $SPARES - grep { $_->{spare} } values %kids;
  # While commands run, also wake every 50 ms: a SIGCHLD just before select() would be missed.
  my @ready = map { [$_, fileno $_] } $sel->can_read(grep({ !$_->{spare} } values %kids) ? 0.05 : undef);
  # Exec results first, so that a command's X or F always comes before its output and exit.
  for (grep { $_->[1] != 0 && $fds{$_->[1]}[1] eq 'x' } @ready) { exec_result($fds{$_->[1]}[0]); }
  for (grep { $_->[1] != 0 && exists $fds{$_->[1]} } @ready) {
    my ($fh, $fd) = @$_;
    my ($k, $stream) = @{ $fds{$fd} };
    my $n = sysread($fh, my $buf, 65536);
    next if !defined $n && $! == POSIX::EINTR;
    if ($n) { out("O $k->{n} $stream " . unpack('H*', $buf) . "\n"); next; }
    drop($fh);
    if (--$k->{open} == 0) { out("C $k->{n}\n"); forget($k); }
  }
  if (grep { $_->[1] == 0 } @ready) {
    my $n = sysread(STDIN, $in, 65536, length $in);
    exit 0 if defined $n && $n == 0;
    while ($in =~ s/\A([^\n]*)\n//) {
      my @f = split / /, $1, -1;
      launch(@f[1 .. 3]) if @f == 4 && $f[0] eq 'R';
    }
  }
  while ((my $pid = waitpid(-1, POSIX::WNOHANG)) > 0) {
    my $st = $?;
    my $k = $kids{$pid} or next;
    exec_result($k);
    my $code = POSIX::WIFEXITED($st) ? POSIX::WEXITSTATUS($st) : '-';
    my $sig = POSIX::WIFSIGNALED($st) ? POSIX::WTERMSIG($st) : '-';
    out("E $k->{n} $code $sig\n");
    $k->{ended} = 1;
    forget($k);
  }
}
`;
