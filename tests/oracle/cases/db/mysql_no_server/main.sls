appdb:
  mysql_database.present:
    - character_set: utf8mb4
olddb:
  mysql_database.absent: []
app:
  mysql_user.present:
    - password: secret
nopw:
  mysql_user.present: []
old:
  mysql_user.absent: []
g1:
  mysql_grants.present:
    - grant: select
    - database: appdb.*
    - user: app
g2:
  mysql_grants.absent:
    - grant: select
    - database: appdb.*
    - user: app
