root:
  alias.present:
    - target: admin@example.com
postmaster:
  alias.present:
    - target: [root, ops@example.com]
nobody:
  alias.present:
    - target: root
old:
  alias.absent: []
never:
  alias.absent: []
