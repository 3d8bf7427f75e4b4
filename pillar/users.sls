# Accounts of the users formula (formulas/users).

# Groups to create: a name, or {name: gid}.
groups:
  - developers
  - ops: 2500

# Login name -> attributes; every key is optional.
users:
  alice:
    uid: 2001
    fullname: Alice Liddell
    shell: /bin/bash
    groups:
      - developers
      - ops
  bob:
    uid: 2002
    fullname: Bob Builder
    shell: /bin/sh
    home: /srv/home/bob
    groups:
      - developers

# Accounts to remove, with their home directories.
users_absent:
  - mallory
