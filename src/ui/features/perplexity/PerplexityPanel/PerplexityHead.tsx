/** The column heads of a perplexity results table (the Perplexity panel and History's record view). */
export function PerplexityHead({ removable = false }: { removable?: boolean }) {
  return (
    <thead>
      <tr>
        <th scope="col" className="text">
          model
        </th>
        <th scope="col">text</th>
        <th scope="col">perplexity</th>
        <th scope="col">
          <abbr title="mean negative log-likelihood per predicted token, in nats">mean NLL</abbr>
        </th>
        <th scope="col">bits per byte</th>
        <th scope="col">tokens</th>
        <th scope="col">windows</th>
        {removable && (
          <th scope="col">
            <span className="visually-hidden">remove</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
