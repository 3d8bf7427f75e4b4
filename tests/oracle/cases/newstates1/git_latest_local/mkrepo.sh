# Make (or advance) the bare repository the case clones from, with fixed authors and dates so
# that commit ids are the same in every run: mkrepo.sh ROOT STEP
set -e
root="$1" step="$2"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t
export GIT_COMMITTER_EMAIL=t@example.invalid GIT_AUTHOR_DATE=2024-01-01T00:00:00Z
export GIT_COMMITTER_DATE=2024-01-01T00:00:00Z GIT_CONFIG_NOSYSTEM=1 HOME="$root"
src="$root/src"
if [ ! -d "$root/repo.git" ]; then
    git init -q --bare "$root/repo.git"
    git -C "$root/repo.git" symbolic-ref HEAD refs/heads/main
    git init -q "$src"
    git -C "$src" checkout -q -b main
    echo one > "$src/a.txt"
    git -C "$src" add a.txt
    git -C "$src" commit -q -m one
    git -C "$src" branch dev
    git -C "$src" push -q "$root/repo.git" main dev
fi
if [ "$step" -ge 2 ] && [ ! -f "$src/b.txt" ]; then
    echo two > "$src/b.txt"
    git -C "$src" add b.txt
    git -C "$src" commit -q -m two
    git -C "$src" push -q "$root/repo.git" main
fi
