"""Records: organisations, accounts and cases, their workflow and the rules of who may do what
(`policy`). The `procurement.services.Services` facade gathers the use-cases of every domain."""
